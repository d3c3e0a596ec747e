#include "support/package_repos.h"

#include <fmt/format.h>

#include <vector>

#include "support/test_env.h"

namespace warden::testing {

namespace {

bool run(const std::string& script, std::string* why) {
  const auto r = runCommand(script + " 2>&1");
  if (r.status != 0 && why) *why = r.output;
  return r.status == 0;
}

// Flips one byte in the middle of `file` (the size stays).
std::string flipByte(const std::filesystem::path& file) {
  return fmt::format(
      "/usr/bin/python3 -c \"import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); i=len(b)//2; b[i]^=0xff; "
      "open(p,'wb').write(b)\" '{}'",
      file.string());
}

}  // namespace

bool makePipProject(const std::filesystem::path& root, const std::string& project, const std::string& version,
                    bool tampered, std::string* why) {
  const std::string wheel = fmt::format("{}-{}-py3-none-any.whl", project, version);
  const std::string script = fmt::format(R"(set -e; mkdir -p '{0}/simple/{1}' '{0}/packages'; cd '{0}/packages'
/usr/bin/python3 - <<'PY'
import base64, hashlib, zipfile
project, version, name = "{1}", "{2}", "{3}"
files = {{f"{{project}}/__init__.py": f"VERSION = '{{version}}'\n",
         f"{{project}}-{{version}}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {{project}}\nVersion: {{version}}\n",
         f"{{project}}-{{version}}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: warden-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}}
record = []
with zipfile.ZipFile(name, "w") as z:
    for path, text in files.items():
        data = text.encode()
        z.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{{path}},sha256={{digest}},{{len(data)}}")
    record.append(f"{{project}}-{{version}}.dist-info/RECORD,,")
    z.writestr(f"{{project}}-{{version}}.dist-info/RECORD", "\n".join(record) + "\n")
digest = hashlib.sha256(open(name, "rb").read()).hexdigest()
open(f"../simple/{{project}}/index.html", "w").write(
    f'<!DOCTYPE html><html><body><a href="../../packages/{{name}}#sha256={{digest}}">{{name}}</a></body></html>\n')
PY
)",
                                         root.string(), project, version, wheel);
  if (!run(script, why)) return false;
  return !tampered || run(flipByte(root / "packages" / wheel), why);
}

bool makeAptRepository(const std::filesystem::path& root, const std::vector<std::string>& packages,
                       const std::vector<std::string>& tampered, std::string* why) {
  std::string script = fmt::format("set -e; mkdir -p '{0}/repo/pool/main' '{0}/repo/dists/stable/main/binary-all' '{0}/build'; ",
                                   root.string());
  for (const std::string& p : packages) {
    script += fmt::format(
        "d='{0}/build/{1}'; mkdir -p \"$d/DEBIAN\" \"$d/usr/share/doc/{1}\"; "
        "printf 'Package: {1}\\nVersion: 1.0-1\\nArchitecture: all\\nMaintainer: Warden Tests <t@example.invalid>\\n"
        "Description: a package for the proxy tests\\n' > \"$d/DEBIAN/control\"; "
        "head -c 20000 /dev/urandom > \"$d/usr/share/doc/{1}/payload\"; "
        "dpkg-deb -Zgzip --root-owner-group --build \"$d\" '{0}/repo/pool/main/{1}_1.0-1_all.deb' >/dev/null; ",
        root.string(), p);
  }
  script += fmt::format(
      "cd '{0}/repo'; apt-ftparchive packages pool > dists/stable/main/binary-all/Packages; "
      "gzip -9 -k -n dists/stable/main/binary-all/Packages; "
      "apt-ftparchive -o APT::FTPArchive::Release::Suite=stable -o APT::FTPArchive::Release::Codename=stable "
      "-o APT::FTPArchive::Release::Components=main -o APT::FTPArchive::Release::Architectures=all "
      "release dists/stable > dists/stable/Release.tmp; mv dists/stable/Release.tmp dists/stable/Release",
      root.string());
  if (!run(script, why)) return false;
  for (const std::string& p : tampered) {
    if (!run(flipByte(root / "repo" / "pool" / "main" / (p + "_1.0-1_all.deb")), why)) return false;
  }
  return true;
}

bool seedVerdaccioPackage(const std::filesystem::path& storage, const std::string& name, const std::string& version,
                          bool tampered, std::string* why) {
  const std::filesystem::path dir = storage / name;
  const std::string tgz = fmt::format("{}-{}.tgz", name, version);
  const std::string script = fmt::format(
      R"(set -e; src=$(mktemp -d); mkdir -p '{0}'; cd "$src"
printf '{{"name":"{1}","version":"{2}","main":"index.js","license":"MIT"}}\n' > package.json
printf 'module.exports = () => "{1} {2}";\n' > index.js
npm pack --silent --pack-destination '{0}' >/dev/null
cd '{0}'; rm -rf "$src"
node -e '
const fs = require("fs"), crypto = require("crypto");
const [name, version, file] = process.argv.slice(1);
const data = fs.readFileSync(file);
const shasum = crypto.createHash("sha1").update(data).digest("hex");
const integrity = "sha512-" + crypto.createHash("sha512").update(data).digest("base64");
const tarball = `http://localhost:4873/${{name}}/-/${{file}}`;
const doc = {{ name, versions: {{ [version]: {{ name, version, main: "index.js", license: "MIT",
  dist: {{ tarball, shasum, integrity }} }} }}, "dist-tags": {{ latest: version }},
  time: {{ created: new Date().toISOString(), modified: new Date().toISOString(), [version]: new Date().toISOString() }},
  _uplinks: {{}}, _distfiles: {{}}, _attachments: {{ [file]: {{ shasum, version }} }}, _rev: "1-0000000000000000" }};
fs.writeFileSync("package.json", JSON.stringify(doc, null, 2));
' '{1}' '{2}' '{3}'
)",
      dir.string(), name, version, tgz);
  if (!run(script, why)) return false;
  return !tampered || run(flipByte(dir / tgz), why);
}

}  // namespace warden::testing
