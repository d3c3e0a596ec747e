#pragma once

// Steps shared by the builders of several classes (builders.cc, process_builders.cc): not part of
// the builders' interface. Pure functions, thread-safe.

#include <string>
#include <string_view>

#include "ocsf/builders.h"

namespace warden::ocsf::detail {

// ASCII lower case ("GET" -> "get"); other bytes unchanged.
std::string lower(std::string_view s);
// action_id, disposition_id, firewall_rule, status, status_detail and severity from a decision.
void applyDecision(Event& e, const Decision& d);
// A File with its name derived from the path when missing (the schema requires file.name).
File withName(File f);
// A Process with every file name (its own and its ancestors') derived from the path when missing.
Process withFileName(Process p);
// e.actor = withFileName(actor), and unmapped.actor_source when the actor says how it was named
// (Process::attribution).
void setActor(Event& e, const Process& actor);

}  // namespace warden::ocsf::detail
