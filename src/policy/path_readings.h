#pragma once

// The ways an upstream may read one canonical request path (docs/policy.md "Path readings"). The proxy
// forwards the canonical path unchanged; the engine decides on every reading of it, so a deny on
// /admin/** cannot be passed with /admin;x=1/secret (Tomcat, Spring and Jetty drop ";params" from a
// segment) or /admin./secret (servers on Windows file systems drop a segment's trailing dots). Pure and
// thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace warden::policy {

// The distinct readings of `canonical` (a path as proxy::canonicalizePath returns it), the path itself
// first: with ";params" cut from every segment, with trailing dots cut from every segment that is not
// all dots, and with both. Segments a cut leaves empty are collapsed as canonicalisation collapses
// them ("/;x/admin" reads as "/admin"); a trailing slash stays. At most 4 entries; "*" and paths with
// nothing to cut give just the path.
std::vector<std::string> pathReadings(std::string_view canonical);

}  // namespace warden::policy
