#include "detect/builtin_rules.h"

namespace warden::detect {
namespace {

// Keep in step with docs/detection.md (one section per rule: what, why, false positives).
constexpr std::string_view kText = R"yaml(# Warden's built-in detection rules. docs/detection.md explains each: what, why, false positives.
lists:
  shells: [sh, bash, dash, zsh, ash, ksh, mksh, busybox]
  credential_paths:
    - "*/.ssh/authorized_keys"
    - "*/.ssh/authorized_keys2"
    - "*/.ssh/id_*"
    - "*/.ssh/config"
    - "*/.aws/credentials"
    - "*/.aws/config"
    - "*/.config/gcloud/*"
    - "*/.azure/*"
    - "*/.kube/config"
    - "*/.docker/config.json"
    - "*/.netrc"
    - "*/.git-credentials"
    - "*/.npmrc"
    - "*/.pypirc"
    - "*/.gnupg/*"
    - "/etc/shadow"
    - "/etc/gshadow"
    - "/etc/passwd"
    - "/etc/sudoers"
    - "/etc/sudoers.d/*"
  doh_hosts: [dns.google, dns.google.com, cloudflare-dns.com, mozilla.cloudflare-dns.com, chrome.cloudflare-dns.com,
              one.one.one.one, 1dot1dot1dot1.cloudflare-dns.com, security.cloudflare-dns.com, family.cloudflare-dns.com,
              dns.quad9.net, dns9.quad9.net, dns10.quad9.net, dns11.quad9.net, doh.opendns.com,
              doh.familyshield.opendns.com, dns.nextdns.io, doh.cleanbrowsing.org, dns.adguard.com,
              dns.adguard-dns.com, doh.mullvad.net, dns.alidns.com, doh.pub, doh.dns.sb, ordns.he.net]
  doh_ips: ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4", "9.9.9.9", "149.112.112.112", "208.67.222.222",
            "208.67.220.220", "94.140.14.14", "94.140.15.15", "2606:4700:4700::1111", "2606:4700:4700::1001",
            "2001:4860:4860::8888", "2001:4860:4860::8844", "2620:fe::fe"]
  doh_paths: ["/dns-query", "/resolve"]
  registry_sources:
    - "https://pypi.org/*"
    - "https://files.pythonhosted.org/*"
    - "https://registry.npmjs.org/*"
    - "https://registry.yarnpkg.com/*"
    - "https://crates.io/*"
    - "https://static.crates.io/*"
    - "https://index.crates.io/*"
    - "https://proxy.golang.org/*"
    - "https://rubygems.org/*"
    - "https://repo.maven.apache.org/*"
    - "https://repo1.maven.org/*"
    - "http://deb.debian.org/*"
    - "https://deb.debian.org/*"
    - "http://security.debian.org/*"
    - "https://security.debian.org/*"
  stop_reasons_of_concern: [policy_violation, oom]

macros:
  spawned_exec: class_uid = 1007 and activity_id = 1 and not status_id = 2
  file_write: class_uid = 1001 and activity_id in (1, 3, 5, 6, 7) and not action_id = 2
  sensitive_read: class_uid = 1001 and activity_id = 2 and unmapped.sensitive = true and not action_id = 2
  egress: (class_uid = 4001 and activity_id = 1) or class_uid = 4002
  denied: action_id = 2
  pkg_install: class_uid = 6002 and activity_id = 1
  session_stop: class_uid = 6002 and activity_id = 4 and app.name = "warden-session"
  model_call: class_uid = 6003 and unmapped.model exists
  tool_call: class_uid = 6003 and not unmapped.model exists

rules:
  - name: pipe-download-to-shell
    desc: a shell reads a script piped from a downloader (curl | sh, wget -O - | sh)
    condition: >
      spawned_exec and process.name in (shells)
      and process.parent_process.cmd_line regex "(curl|wget)\s[^|]*\|\s*(sudo\s+)?(\S*/)?(ba|da|z|k|a)?sh\b"
    severity: high
    confidence: high
    attack: [T1059.004, T1105, TA0002]
    title: "Downloaded script piped to %{process.name}"

  - name: base64-decode-to-shell
    desc: a shell runs a script decoded from base64 (echo ... | base64 -d | sh)
    condition: >
      spawned_exec and process.name in (shells)
      and process.parent_process.cmd_line regex "base64\s+(-[a-zA-Z]*[dD][a-zA-Z]*|--decode)\b[^|]*\|\s*(sudo\s+)?(\S*/)?(ba|da|z|k|a)?sh\b"
    severity: high
    confidence: high
    attack: [T1140, T1027, TA0005]
    title: "Base64-decoded script run by %{process.name}"

  - name: credential-file-write
    desc: a process created, wrote, renamed onto or changed the permissions of a credential or authentication file
    condition: >
      file_write and (file.path glob (credential_paths) or file_result.path glob (credential_paths))
    severity: high
    attack: [T1098.004, TA0003]
    title: "Credential file written: %{file.path}"

  - name: exfil-after-credential-read
    desc: a sensitive file read followed by egress from the same process tree within 60 s
    sequence:
      - sensitive_read
      - egress
    within: 60s
    same: process_tree
    severity: high
    attack: [T1552.001, T1041, TA0010]
    title: "Egress to %{dst_endpoint.hostname} after a sensitive file read"

  - name: process-euid-root
    desc: a process of the session runs with effective uid 0 (a setuid binary, sudo, a privilege escalation)
    condition: spawned_exec and (process.euid = 0 or unmapped.euid = 0 or process.user.uid = "0")
    severity: high
    attack: [T1548.001, TA0004]
    title: "%{process.name} runs with euid 0"

  - name: package-hash-mismatch
    desc: an installed package's artifact does not match the hash its registry advertised
    condition: pkg_install and unmapped.package.verdict = "mismatch"
    severity: high
    confidence: high
    attack: [T1195.002, TA0001]
    title: "Package %{app.name} %{app.version}: hash mismatch"

  - name: package-non-registry-source
    desc: a package installed from a direct URL, a git repository or a host that is not a known registry
    condition: >
      pkg_install and (
        unmapped.package.requested_version regex "^(git\+|git://|github:|gitlab:|bitbucket:|https?://|file:)"
        or app.url_string regex "^git(\+|://)|\.git($|[#@])"
        or (app.url_string exists and not app.url_string glob (registry_sources)))
    severity: medium
    attack: [T1195.002, TA0001]
    title: "Package %{app.name} from a non-registry source"

  - name: dns-over-https
    desc: a connection or request to a public DNS-over-HTTPS (or DNS-over-TLS) resolver, around the sandbox's own resolver
    condition: >
      (class_uid = 4001 and activity_id in (1, 5)
        and (dst_endpoint.hostname in (doh_hosts) or dst_endpoint.ip in (doh_ips) or dst_endpoint.port = 853))
      or (class_uid = 4002 and (http_request.url.hostname in (doh_hosts) or http_request.url.path in (doh_paths)))
    severity: medium
    attack: [T1071.004, T1572, TA0011]
    title: "DNS over HTTPS attempt to %{dst_endpoint.hostname}"

  - name: denied-egress-burst
    desc: many denied egress attempts in a short time (scanning, a retry loop, probing the policy)
    condition: class_uid in (4001, 4002) and denied
    threshold: 20
    within: 10s
    same: session
    severity: medium
    attack: [T1046, TA0007]
    title: "Burst of denied egress attempts (last to %{dst_endpoint.hostname})"

  - name: session-stopped-abnormally
    desc: the session was stopped for a policy violation or killed by the kernel for memory (OOM)
    condition: session_stop and status_detail in (stop_reasons_of_concern)
    severity: high
    confidence: high
    title: "Session stopped: %{status_detail}"

  - name: tool-call-denied
    desc: the agent called a tool the policy denies
    condition: tool_call and denied
    severity: medium
    confidence: high
    title: "Denied tool call: %{api.operation}"

  - name: model-requested-denied-tool
    desc: a model asked for a tool call that the policy then denied (the model steers the agent toward a forbidden action)
    sequence:
      - model_call and unmapped.model.tool_calls.name exists
      - tool_call and denied
    within: 5m
    same: session
    join: [unmapped.model.tool_calls.name, api.operation]
    severity: high
    title: "Model asked for denied tool %{api.operation}"
)yaml";

}  // namespace

std::string_view builtinRulesText() { return kText; }

}  // namespace warden::detect
