#pragma once

#include <string>

#include "ocsf/event.h"

namespace warden::ocsf {

// Renders an Event as its shorthand (events.md "Shorthand"): `<PREFIX>:<ACTIVITY> <SEV> <detail>`,
// always exactly one line (control characters written as \u{hex}; `\`, `[`, `]` escaped inside
// bracket items), no trailing space, no newline added.
// Stateless and thread-safe; `out` is appended to, never cleared.
void appendShorthand(std::string& out, const Event& event);
std::string toShorthand(const Event& event);

// Appends free text escaped exactly as shorthand escapes it: control characters (C0, DEL, C1,
// line/paragraph separators, bidi controls) as \u{hex}, bytes outside well-formed UTF-8 as
// \x{hex}, and `\`, `[`, `]` backslash-escaped — so the text can never span two lines or imitate
// a bracket item. Used for warden.log's operational lines too.
void appendShorthandText(std::string& out, std::string_view text);

// The warden.log line without its newline: `<YYYY-MM-DDTHH:MM:SS.mmmZ> OCSF <shorthand>`.
void appendLogLine(std::string& out, const Event& event);

}  // namespace warden::ocsf
