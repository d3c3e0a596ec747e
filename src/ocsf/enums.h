#pragma once

#include <cstdint>
#include <string_view>

namespace warden::ocsf {

// OCSF 1.7.0 enumerations used by Warden's events. Values are the schema's; captions are the
// schema's captions and are what the `*_id` sibling string attributes carry.

enum class ClassUid : int {
  kBase = 0,
  kFileSystemActivity = 1001,
  kProcessActivity = 1007,
  kEventLogActivity = 1008,
  kDetectionFinding = 2004,
  kNetworkActivity = 4001,
  kHttpActivity = 4002,
  kDnsActivity = 4003,
  kSshActivity = 4007,
  kDeviceConfigStateChange = 5019,
  kApplicationLifecycle = 6002,
  kApiActivity = 6003,
};

// The shorthand family of an event (events.md class table). One OCSF class can serve several
// (Application Lifecycle: LIFECYCLE, SESSION, PKG; API Activity: TOOL, MODEL, API; Base: LIMIT, EVENT).
enum class Kind : uint8_t {
  kNet, kHttp, kDns, kSsh, kProc, kFile, kFinding, kConfig, kLifecycle, kSession, kPkg, kTool, kModel, kApi, kLimit,
  kLog, kEvent,
};

enum class Severity : int {
  kUnknown = 0, kInformational = 1, kLow = 2, kMedium = 3, kHigh = 4, kCritical = 5, kFatal = 6, kOther = 99,
};

enum class Status : int { kUnknown = 0, kSuccess = 1, kFailure = 2, kOther = 99 };

enum class Action : int { kUnknown = 0, kAllowed = 1, kDenied = 2, kObserved = 3, kModified = 4, kOther = 99 };

enum class Disposition : int {
  kUnknown = 0, kAllowed = 1, kBlocked = 2, kDetected = 15, kNoAction = 16, kLogged = 17, kAlert = 19,
  kReset = 21, kRejected = 25, kError = 27, kOther = 99,
};

enum class Direction : int { kUnknown = 0, kInbound = 1, kOutbound = 2, kLateral = 3, kLocal = 4, kOther = 99 };

enum class ObservationPoint : int { kUnknown = 0, kSource = 1, kDestination = 2, kNeither = 3, kBoth = 4 };

enum class LaunchType : int { kUnknown = 0, kSpawn = 1, kFork = 2, kExec = 3, kOther = 99 };

enum class Confidence : int { kUnknown = 0, kLow = 1, kMedium = 2, kHigh = 3, kOther = 99 };

enum class RiskLevel : int { kInfo = 0, kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4, kOther = 99 };

enum class FileType : int {
  kUnknown = 0, kRegular = 1, kFolder = 2, kCharDevice = 3, kBlockDevice = 4, kLocalSocket = 5, kNamedPipe = 6,
  kSymlink = 7, kExecutable = 8, kOther = 99,
};

enum class AuthType : int {
  kUnknown = 0, kCertificate = 1, kGssapi = 2, kHostBased = 3, kKeyboardInteractive = 4, kPassword = 5,
  kPublicKey = 6, kOther = 99,
};

enum class DnsRcode : int { kNoError = 0, kFormError = 1, kServError = 2, kNxDomain = 3, kNotImp = 4, kRefused = 5 };

enum class LogType : int { kUnknown = 0, kOs = 1, kApplication = 2, kOther = 99 };

// metadata.profiles, as a bit set.
enum Profile : uint8_t {
  kProfileHost = 1 << 0,
  kProfileContainer = 1 << 1,
  kProfileNetworkProxy = 1 << 2,
  kProfileSecurityControl = 1 << 3,
  kProfileLinuxUsers = 1 << 4,  // "linux/linux_users": process euid, egid, auid, group
};

// Class facts from the schema: names, category.
std::string_view className(ClassUid c);
int categoryUid(ClassUid c);
std::string_view categoryName(ClassUid c);
// The schema's caption of activity_id for the class ("Open", "Get", "Launch", …); "" for 99/unknown.
std::string_view activityCaption(ClassUid c, int activity_id);

std::string_view severityCaption(Severity s);
// "[INFO]", "[LOW]", "[MED]", "[HIGH]", "[CRIT]", "[FATAL]" (Unknown and Other: "[INFO]").
std::string_view severityTag(Severity s);
std::string_view statusCaption(Status s);
std::string_view actionCaption(Action a);
std::string_view dispositionCaption(Disposition d);
std::string_view directionCaption(Direction d);
std::string_view observationPointCaption(ObservationPoint o);
std::string_view launchTypeCaption(LaunchType l);
std::string_view confidenceCaption(Confidence c);
std::string_view riskLevelCaption(RiskLevel r);
std::string_view fileTypeCaption(FileType t);
std::string_view authTypeCaption(AuthType a);
std::string_view rcodeCaption(DnsRcode r);
std::string_view logTypeCaption(LogType l);
// "NET", "HTTP", …
std::string_view kindPrefix(Kind k);

}  // namespace warden::ocsf
