#include "proxy/inspect/jsonrpc.h"

namespace warden::proxy::inspect {

namespace {

using nlohmann::json;

std::string dumpSafe(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

RpcMessage messageOf(json& m) {
  RpcMessage out;
  if (!m.is_object()) {
    out.problem = "a message must be a JSON object";
    return out;
  }
  const auto id = m.find("id");
  const bool has_id = id != m.end();
  if (has_id) {
    if (id->is_string() || id->is_number_integer() || id->is_number_unsigned() || id->is_null()) {
      out.id = dumpSafe(*id);
    } else if (id->is_number_float()) {
      out.id = dumpSafe(*id);  // discouraged by the spec, still echoed back
    }
  }
  const auto version = m.find("jsonrpc");
  if (version == m.end() || !version->is_string() || version->get_ref<const std::string&>() != "2.0") {
    out.problem = "no \"jsonrpc\": \"2.0\"";
    return out;
  }
  const auto method = m.find("method");
  if (method != m.end()) {
    if (!method->is_string()) {
      out.problem = "method is not a string";
      return out;
    }
    if (has_id && out.id.empty()) {
      out.problem = "id must be a string, a number or null";
      return out;
    }
    out.method = method->get<std::string>();
    if (const auto params = m.find("params"); params != m.end()) {
      if (!params->is_object() && !params->is_array()) {
        out.problem = "params must be an object or an array";
        return out;
      }
      out.params = std::move(*params);
    }
    out.kind = has_id ? RpcMessage::Kind::kRequest : RpcMessage::Kind::kNotification;
    return out;
  }
  // A response: an id and exactly one of result / error.
  if (!has_id || out.id.empty()) {
    out.problem = "neither a method nor a response id";
    return out;
  }
  const auto result = m.find("result");
  const auto error = m.find("error");
  if ((result == m.end()) == (error == m.end())) {
    out.problem = "a response needs exactly one of result and error";
    return out;
  }
  if (result != m.end()) {
    out.result = std::move(*result);
  } else {
    RpcError e;
    if (error->is_object()) {
      if (const auto code = error->find("code"); code != error->end() && code->is_number_integer()) {
        e.code = code->get<int64_t>();
      }
      if (const auto msg = error->find("message"); msg != error->end() && msg->is_string()) {
        e.message = msg->get<std::string>();
      }
    } else {
      out.problem = "error is not an object";
      return out;
    }
    out.error = std::move(e);
  }
  out.kind = RpcMessage::Kind::kResponse;
  return out;
}

}  // namespace

RpcPayload fromJson(json&& document) {
  RpcPayload out;
  if (document.is_array()) {
    out.batch = true;
    if (document.empty()) {
      out.error = "an empty batch";
      return out;
    }
    out.messages.reserve(document.size());
    for (json& m : document) out.messages.push_back(messageOf(m));
    return out;
  }
  if (!document.is_object()) {
    out.error = "not a JSON-RPC message (a JSON object or array was expected)";
    return out;
  }
  out.messages.push_back(messageOf(document));
  return out;
}

RpcPayload parseJsonRpc(std::string_view text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    RpcPayload out;
    out.error = "not valid JSON";
    return out;
  }
  return fromJson(std::move(document));
}

std::string rpcErrorResponse(std::string_view id_json, int64_t code, std::string_view message) {
  json error = {{"code", code}, {"message", std::string(message)}};
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out += id_json.empty() ? std::string_view("null") : id_json;
  out += ",\"error\":";
  out += dumpSafe(error);
  out += "}";
  return out;
}

}  // namespace warden::proxy::inspect
