#include "ocsf/value.h"

#include <algorithm>
#include <cassert>
#include <climits>

namespace warden::ocsf {

namespace {
bool keyLess(const std::pair<std::string, Value>& a, std::string_view k) {
  return std::string_view(a.first) < k;
}
}  // namespace

Value::Value(Object o) {
  // Stable sort keeps insertion order among equal keys; the last one wins.
  std::stable_sort(o.begin(), o.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Object out;
  out.reserve(o.size());
  for (auto& kv : o) {
    if (!out.empty() && out.back().first == kv.first) {
      out.back().second = std::move(kv.second);
    } else {
      out.push_back(std::move(kv));
    }
  }
  v_ = std::move(out);
}

int64_t Value::asInt() const {
  if (isUint()) {
    const uint64_t u = std::get<3>(v_);
    return u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  }
  return std::get<2>(v_);
}

Value& Value::set(std::string_view key, Value value) {
  if (isNull()) v_ = Object{};
  assert(isObject());
  auto& obj = std::get<7>(v_);
  auto it = std::lower_bound(obj.begin(), obj.end(), key, keyLess);
  if (it != obj.end() && it->first == key) {
    it->second = std::move(value);
    return it->second;
  }
  it = obj.emplace(it, std::string(key), std::move(value));
  return it->second;
}

const Value* Value::find(std::string_view key) const {
  if (!isObject()) return nullptr;
  const auto& obj = std::get<7>(v_);
  auto it = std::lower_bound(obj.begin(), obj.end(), key, keyLess);
  return (it != obj.end() && it->first == key) ? &it->second : nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

const Value* Value::findPath(std::initializer_list<std::string_view> path) const {
  const Value* v = this;
  for (auto k : path) {
    v = v->find(k);
    if (v == nullptr) return nullptr;
  }
  return v;
}

std::string_view Value::stringAt(std::string_view key) const {
  const Value* v = find(key);
  return (v != nullptr && v->isString()) ? std::string_view(v->asString()) : std::string_view();
}

bool Value::erase(std::string_view key) {
  if (!isObject()) return false;
  auto& obj = std::get<7>(v_);
  auto it = std::lower_bound(obj.begin(), obj.end(), key, keyLess);
  if (it == obj.end() || it->first != key) return false;
  obj.erase(it);
  return true;
}

Value& Value::push(Value value) {
  if (isNull()) v_ = Array{};
  assert(isArray());
  auto& arr = std::get<6>(v_);
  arr.push_back(std::move(value));
  return arr.back();
}

bool Value::isEmptyForJson() const {
  if (isNull()) return true;
  if (isArray()) {
    return std::all_of(asArray().begin(), asArray().end(), [](const Value& v) { return v.isEmptyForJson(); });
  }
  if (isObject()) {
    return std::all_of(asObject().begin(), asObject().end(),
                       [](const auto& kv) { return kv.second.isEmptyForJson(); });
  }
  return false;
}

}  // namespace warden::ocsf
