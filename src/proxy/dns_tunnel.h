#pragma once

// Shapes of DNS tunnelling in the names an agent asks for (docs/dns.md "Tunnelling shapes"): data
// carried in the query name itself. Socket-free and clock-free (times are passed in); one detector per
// resolver, used from its io thread only (not thread-safe); memory bounded by max_parents.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace warden::proxy {

struct DnsTunnelOptions {
  // A label is data-like when it is at least this long and looks encoded (see dataLikeLabel).
  size_t min_label_bytes = 20;
  // So many bytes of labels before the parent domain are data whatever they look like.
  size_t max_subdomain_bytes = 100;
  // This many distinct names under one parent within `window_ms` is a tunnel's traffic pattern.
  size_t unique_names = 50;
  int64_t window_ms = 60'000;
  size_t max_parents = 4096;  // parents tracked at once; beyond, the oldest window is forgotten
};

struct DnsTunnelSign {
  std::string parent;  // the domain the data is sent to ("evil.example")
  std::string kind;    // "data-label", "long-name", "many-names"
  std::string detail;  // one sentence for the finding
};

// The domain a name's data would reach: its last two labels ("a.b.exfil.evil.example" -> "evil.example");
// the name itself when it has fewer. Lower-cased.
std::string dnsParentDomain(std::string_view name);

// True for a label that reads as encoded data rather than a name: at least `min_bytes` long and either
// mixed-case (DNS is case-insensitive; case in a long label carries bits), or hex/base32/base64-like
// (letters and digits mixed, at least a fifth of each, Shannon entropy at least 3 bits per byte), or
// high-entropy (at least 4 bits per byte) without the hyphens that join words in real names.
bool dataLikeLabel(std::string_view label, size_t min_bytes);

class DnsTunnelDetector {
 public:
  explicit DnsTunnelDetector(DnsTunnelOptions options = {}) : options_(options) {}

  // Looks at one queried name (presentation form, case as sent) at `now_ms`. Returns a sign the first
  // time a parent shows a shape in a window; the same parent is quiet for that shape until its window
  // ends (a tunnel makes thousands of queries, the record gets one finding a minute per parent).
  std::optional<DnsTunnelSign> observe(std::string_view name, int64_t now_ms);

 private:
  struct Parent {
    int64_t window_start = 0;
    std::unordered_set<std::string> names;  // distinct names this window, up to unique_names
    bool reported_shape = false;            // a data-label or long-name sign was given this window
    bool reported_count = false;            // a many-names sign was given this window
  };
  DnsTunnelOptions options_;
  std::unordered_map<std::string, Parent> parents_;
};

}  // namespace warden::proxy
