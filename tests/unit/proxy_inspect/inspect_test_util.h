#pragma once

// A Recorder over a CollectingEmitter and fixed parties, for the inspector unit tests.

#include <string>
#include <vector>

#include "common/clock.h"
#include "ocsf/builders.h"
#include "ocsf/samples.h"
#include "ocsf/shorthand.h"
#include "proxy/http_request.h"
#include "proxy/http_response.h"
#include "proxy/inspect/context.h"
#include "support/collecting_emitter.h"

namespace warden::proxy::inspect {

struct RecorderFixture {
  testing::CollectingEmitter emitter;
  ocsf::SessionContext session = ocsf::sampleContext();
  ManualClock clock{1763900000000};
  Recorder recorder{&emitter, &session, &clock};
  Parties parties;

  RecorderFixture() {
    ocsf::Process p;
    p.name = "node";
    p.pid = 99;
    p.cmd_line = "node /usr/bin/npm install left-pad@1.3.0";
    parties.actor = p;
    parties.src.ip = "10.200.0.2";
    parties.src.port = 50000;
    parties.host = "mcp.example.com";
    parties.port = 443;
    parties.tls = true;
    parties.rule = "tools_server";
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const ocsf::Event& e : emitter.events()) out.push_back(ocsf::toShorthand(e));
    return out;
  }
};

inline HttpRequestHead requestHead(std::string text) {
  HttpRequestParser p;
  const FeedResult r = p.feed(text);
  (void)r;
  return p.takeHead();
}

inline HttpResponseHead responseHead(std::string text, std::string_view method = "GET") {
  HttpResponseParser p(method);
  const FeedResult r = p.feed(text);
  (void)r;
  return p.takeHead();
}

}  // namespace warden::proxy::inspect
