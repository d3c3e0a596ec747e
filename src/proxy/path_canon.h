#pragma once

// Request-path canonicalization: one spelling per path, so that the path policy matches is the path
// forwarded upstream (sandbox.md "L7"). Pure and thread-safe.

#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::proxy {

// Canonicalizes an origin-form path (no query: split it off first; "/a?b" is rejected because '?'
// cannot appear in a path). On success the result:
//   - starts with '/';
//   - has percent-escapes of unreserved characters (ALPHA DIGIT - . _ ~) decoded, and every other
//     escape kept with upper-case hex (%2f -> %2F is impossible: see below; %3a -> %3A);
//   - has raw characters outside pchar ("a-zA-Z0-9-._~!$&'()*+,;=:@") percent-encoded, so "/a b"
//     and "/a%20b" are one path;
//   - has "." and ".." segments resolved (after decoding, so "%2e%2e" is ".."), keeping a trailing
//     slash ("/a/b/.." -> "/a/");
//   - has empty segments collapsed ("//a///b" -> "/a/b"): many upstreams (nginx merge_slashes) treat
//     them as one, and a policy that saw "//admin" must not be bypassed by an upstream seeing "/admin".
// Rejected (InvalidArgument, message starting with a snake_case reason code):
//   path_not_absolute      the path does not start with '/'
//   path_above_root        ".." would climb above "/"
//   encoded_slash          %2F or %5C (or a raw '\') inside a segment
//   control_byte           raw or percent-encoded bytes 0x00-0x1F or 0x7F
//   invalid_percent_escape '%' not followed by two hex digits
//   non_ascii              a raw byte >= 0x80 (send it percent-encoded)
//   dot_segment_params     a "." or ".." segment with ';' parameters ("/..;/": Tomcat resolves it)
//   query_in_path          a '?' or '#' in the path
Result<std::string> canonicalizePath(std::string_view path);

}  // namespace warden::proxy
