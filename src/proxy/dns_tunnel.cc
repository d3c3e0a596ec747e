#include "proxy/dns_tunnel.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace warden::proxy {
namespace {

char lowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

double entropyBits(std::string_view text) {
  std::array<size_t, 256> counts{};
  for (const char c : text) ++counts[static_cast<unsigned char>(c)];
  double bits = 0;
  const double n = static_cast<double>(text.size());
  for (const size_t count : counts) {
    if (count == 0) continue;
    const double p = static_cast<double>(count) / n;
    bits -= p * std::log2(p);
  }
  return bits;
}

}  // namespace

std::string dnsParentDomain(std::string_view name) {
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && dot > 0) dot = name.rfind('.', dot - 1);
  std::string parent(dot == std::string_view::npos ? name : name.substr(dot + 1));
  std::transform(parent.begin(), parent.end(), parent.begin(), lowerAscii);
  return parent;
}

bool dataLikeLabel(std::string_view label, size_t min_bytes) {
  if (label.size() < min_bytes || label.empty()) return false;
  size_t upper = 0;
  size_t lower = 0;
  size_t digits = 0;
  size_t hyphens = 0;
  for (const char c : label) {
    if (c >= 'A' && c <= 'Z') ++upper;
    if (c >= 'a' && c <= 'z') ++lower;
    if (c >= '0' && c <= '9') ++digits;
    if (c == '-') ++hyphens;
  }
  if (upper > 0 && lower > 0) return true;
  const double entropy = entropyBits(label);
  const size_t letters = upper + lower;
  if (digits * 5 >= label.size() && letters * 5 >= label.size() && entropy >= 3.0) return true;
  return hyphens == 0 && entropy >= 4.0;
}

std::optional<DnsTunnelSign> DnsTunnelDetector::observe(std::string_view name, int64_t now_ms) {
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return std::nullopt;
  const std::string parent_name = dnsParentDomain(name);
  auto it = parents_.find(parent_name);
  if (it == parents_.end()) {
    if (parents_.size() >= options_.max_parents) {
      // Forget the parent whose window started first (bounded memory; a tunnel keeps its own fresh).
      auto oldest = std::min_element(parents_.begin(), parents_.end(), [](const auto& a, const auto& b) {
        return a.second.window_start < b.second.window_start;
      });
      parents_.erase(oldest);
    }
    it = parents_.emplace(parent_name, Parent{.window_start = now_ms}).first;
  }
  Parent& parent = it->second;
  if (now_ms - parent.window_start >= options_.window_ms) parent = Parent{.window_start = now_ms};

  // The shape of this one name: a data-like label, or a long run of labels before the parent.
  const std::string_view subdomain =
      name.size() > parent_name.size() ? name.substr(0, name.size() - parent_name.size() - 1) : std::string_view();
  std::optional<DnsTunnelSign> sign;
  if (!parent.reported_shape) {
    size_t start = 0;
    while (start < subdomain.size() && !sign) {
      const size_t dot = subdomain.find('.', start);
      const std::string_view label = subdomain.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (dataLikeLabel(label, options_.min_label_bytes)) {
        sign = DnsTunnelSign{parent_name, "data-label",
                             fmt::format("a {}-byte label that reads as encoded data ({}) under {}", label.size(),
                                         label.substr(0, 64), parent_name)};
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (!sign && subdomain.size() >= options_.max_subdomain_bytes) {
      sign = DnsTunnelSign{parent_name, "long-name",
                           fmt::format("{} bytes of labels before {}", subdomain.size(), parent_name)};
    }
    if (sign) {
      parent.reported_shape = true;
      return sign;
    }
  }
  // The traffic pattern: many distinct names under one parent.
  if (!parent.reported_count) {
    std::string lowered(name);
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), lowerAscii);
    parent.names.insert(std::move(lowered));
    if (parent.names.size() >= options_.unique_names) {
      parent.reported_count = true;
      const size_t seen = parent.names.size();
      parent.names.clear();  // not needed until the window ends
      return DnsTunnelSign{parent_name, "many-names",
                           fmt::format("{} distinct names under {} within {} s", seen, parent_name,
                                       options_.window_ms / 1000)};
    }
  }
  return std::nullopt;
}

}  // namespace warden::proxy
