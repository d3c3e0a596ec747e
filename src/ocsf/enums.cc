#include "ocsf/enums.h"

namespace warden::ocsf {

std::string_view className(ClassUid c) {
  switch (c) {
    case ClassUid::kBase: return "Base Event";
    case ClassUid::kFileSystemActivity: return "File System Activity";
    case ClassUid::kProcessActivity: return "Process Activity";
    case ClassUid::kEventLogActivity: return "Event Log Activity";
    case ClassUid::kDetectionFinding: return "Detection Finding";
    case ClassUid::kNetworkActivity: return "Network Activity";
    case ClassUid::kHttpActivity: return "HTTP Activity";
    case ClassUid::kDnsActivity: return "DNS Activity";
    case ClassUid::kSshActivity: return "SSH Activity";
    case ClassUid::kDeviceConfigStateChange: return "Device Config State Change";
    case ClassUid::kApplicationLifecycle: return "Application Lifecycle";
    case ClassUid::kApiActivity: return "API Activity";
  }
  return "Base Event";
}

int categoryUid(ClassUid c) { return static_cast<int>(c) / 1000; }

std::string_view categoryName(ClassUid c) {
  switch (categoryUid(c)) {
    case 0: return "Uncategorized";
    case 1: return "System Activity";
    case 2: return "Findings";
    case 4: return "Network Activity";
    case 5: return "Discovery";
    case 6: return "Application Activity";
  }
  return "Uncategorized";
}

std::string_view activityCaption(ClassUid c, int a) {
  switch (c) {
    case ClassUid::kNetworkActivity:
    case ClassUid::kSshActivity:
      switch (a) {
        case 1: return "Open";
        case 2: return "Close";
        case 3: return "Reset";
        case 4: return "Fail";
        case 5: return "Refuse";
        case 6: return "Traffic";
        case 7: return "Listen";
      }
      break;
    case ClassUid::kHttpActivity:
      switch (a) {
        case 1: return "Connect";
        case 2: return "Delete";
        case 3: return "Get";
        case 4: return "Head";
        case 5: return "Options";
        case 6: return "Post";
        case 7: return "Put";
        case 8: return "Trace";
        case 9: return "Patch";
      }
      break;
    case ClassUid::kDnsActivity:
      switch (a) {
        case 1: return "Query";
        case 2: return "Response";
        case 6: return "Traffic";
      }
      break;
    case ClassUid::kProcessActivity:
      switch (a) {
        case 1: return "Launch";
        case 2: return "Terminate";
        case 3: return "Open";
        case 4: return "Inject";
        case 5: return "Set User ID";
      }
      break;
    case ClassUid::kFileSystemActivity:
      switch (a) {
        case 1: return "Create";
        case 2: return "Read";
        case 3: return "Update";
        case 4: return "Delete";
        case 5: return "Rename";
        case 6: return "Set Attributes";
        case 7: return "Set Security";
        case 12: return "Mount";
        case 13: return "Unmount";
        case 14: return "Open";
      }
      break;
    case ClassUid::kDetectionFinding:
      switch (a) {
        case 1: return "Create";
        case 2: return "Update";
        case 3: return "Close";
      }
      break;
    case ClassUid::kDeviceConfigStateChange:
      switch (a) {
        case 1: return "Log";
        case 2: return "Collect";
      }
      break;
    case ClassUid::kApplicationLifecycle:
      switch (a) {
        case 1: return "Install";
        case 2: return "Remove";
        case 3: return "Start";
        case 4: return "Stop";
        case 5: return "Restart";
        case 6: return "Enable";
        case 7: return "Disable";
        case 8: return "Update";
      }
      break;
    case ClassUid::kApiActivity:
      switch (a) {
        case 1: return "Create";
        case 2: return "Read";
        case 3: return "Update";
        case 4: return "Delete";
      }
      break;
    case ClassUid::kEventLogActivity:
      switch (a) {
        case 1: return "Clear";
        case 2: return "Delete";
        case 3: return "Export";
        case 4: return "Archive";
        case 5: return "Rotate";
        case 6: return "Start";
        case 7: return "Stop";
        case 8: return "Restart";
        case 9: return "Enable";
        case 10: return "Disable";
      }
      break;
    case ClassUid::kBase: break;
  }
  return "";
}

std::string_view severityCaption(Severity s) {
  switch (s) {
    case Severity::kUnknown: return "Unknown";
    case Severity::kInformational: return "Informational";
    case Severity::kLow: return "Low";
    case Severity::kMedium: return "Medium";
    case Severity::kHigh: return "High";
    case Severity::kCritical: return "Critical";
    case Severity::kFatal: return "Fatal";
    case Severity::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view severityTag(Severity s) {
  switch (s) {
    case Severity::kLow: return "[LOW]";
    case Severity::kMedium: return "[MED]";
    case Severity::kHigh: return "[HIGH]";
    case Severity::kCritical: return "[CRIT]";
    case Severity::kFatal: return "[FATAL]";
    default: return "[INFO]";
  }
}

std::string_view statusCaption(Status s) {
  switch (s) {
    case Status::kUnknown: return "Unknown";
    case Status::kSuccess: return "Success";
    case Status::kFailure: return "Failure";
    case Status::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view actionCaption(Action a) {
  switch (a) {
    case Action::kUnknown: return "Unknown";
    case Action::kAllowed: return "Allowed";
    case Action::kDenied: return "Denied";
    case Action::kObserved: return "Observed";
    case Action::kModified: return "Modified";
    case Action::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view dispositionCaption(Disposition d) {
  switch (d) {
    case Disposition::kUnknown: return "Unknown";
    case Disposition::kAllowed: return "Allowed";
    case Disposition::kBlocked: return "Blocked";
    case Disposition::kDetected: return "Detected";
    case Disposition::kNoAction: return "No Action";
    case Disposition::kLogged: return "Logged";
    case Disposition::kAlert: return "Alert";
    case Disposition::kReset: return "Reset";
    case Disposition::kRejected: return "Rejected";
    case Disposition::kError: return "Error";
    case Disposition::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view directionCaption(Direction d) {
  switch (d) {
    case Direction::kUnknown: return "Unknown";
    case Direction::kInbound: return "Inbound";
    case Direction::kOutbound: return "Outbound";
    case Direction::kLateral: return "Lateral";
    case Direction::kLocal: return "Local";
    case Direction::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view observationPointCaption(ObservationPoint o) {
  switch (o) {
    case ObservationPoint::kUnknown: return "Unknown";
    case ObservationPoint::kSource: return "Source";
    case ObservationPoint::kDestination: return "Destination";
    case ObservationPoint::kNeither: return "Neither";
    case ObservationPoint::kBoth: return "Both";
  }
  return "Unknown";
}

std::string_view launchTypeCaption(LaunchType l) {
  switch (l) {
    case LaunchType::kUnknown: return "Unknown";
    case LaunchType::kSpawn: return "Spawn";
    case LaunchType::kFork: return "Fork";
    case LaunchType::kExec: return "Exec";
    case LaunchType::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view confidenceCaption(Confidence c) {
  switch (c) {
    case Confidence::kUnknown: return "Unknown";
    case Confidence::kLow: return "Low";
    case Confidence::kMedium: return "Medium";
    case Confidence::kHigh: return "High";
    case Confidence::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view riskLevelCaption(RiskLevel r) {
  switch (r) {
    case RiskLevel::kInfo: return "Info";
    case RiskLevel::kLow: return "Low";
    case RiskLevel::kMedium: return "Medium";
    case RiskLevel::kHigh: return "High";
    case RiskLevel::kCritical: return "Critical";
    case RiskLevel::kOther: return "Other";
  }
  return "Info";
}

std::string_view fileTypeCaption(FileType t) {
  switch (t) {
    case FileType::kUnknown: return "Unknown";
    case FileType::kRegular: return "Regular File";
    case FileType::kFolder: return "Folder";
    case FileType::kCharDevice: return "Character Device";
    case FileType::kBlockDevice: return "Block Device";
    case FileType::kLocalSocket: return "Local Socket";
    case FileType::kNamedPipe: return "Named Pipe";
    case FileType::kSymlink: return "Symbolic Link";
    case FileType::kExecutable: return "Executable File";
    case FileType::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view authTypeCaption(AuthType a) {
  switch (a) {
    case AuthType::kUnknown: return "Unknown";
    case AuthType::kCertificate: return "Certificate Based";
    case AuthType::kGssapi: return "GSSAPI";
    case AuthType::kHostBased: return "Host Based";
    case AuthType::kKeyboardInteractive: return "Keyboard Interactive";
    case AuthType::kPassword: return "Password";
    case AuthType::kPublicKey: return "Public Key";
    case AuthType::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view rcodeCaption(DnsRcode r) {
  switch (r) {
    case DnsRcode::kNoError: return "NoError";
    case DnsRcode::kFormError: return "FormError";
    case DnsRcode::kServError: return "ServError";
    case DnsRcode::kNxDomain: return "NXDomain";
    case DnsRcode::kNotImp: return "NotImp";
    case DnsRcode::kRefused: return "Refused";
  }
  return "NoError";
}

std::string_view logTypeCaption(LogType l) {
  switch (l) {
    case LogType::kUnknown: return "Unknown";
    case LogType::kOs: return "OS";
    case LogType::kApplication: return "Application";
    case LogType::kOther: return "Other";
  }
  return "Unknown";
}

std::string_view kindPrefix(Kind k) {
  switch (k) {
    case Kind::kNet: return "NET";
    case Kind::kHttp: return "HTTP";
    case Kind::kDns: return "DNS";
    case Kind::kSsh: return "SSH";
    case Kind::kProc: return "PROC";
    case Kind::kFile: return "FILE";
    case Kind::kFinding: return "FINDING";
    case Kind::kConfig: return "CONFIG";
    case Kind::kLifecycle: return "LIFECYCLE";
    case Kind::kSession: return "SESSION";
    case Kind::kPkg: return "PKG";
    case Kind::kTool: return "TOOL";
    case Kind::kApi: return "API";
    case Kind::kModel: return "MODEL";
    case Kind::kLimit: return "LIMIT";
    case Kind::kLog: return "LOG";
    case Kind::kEvent: return "EVENT";
  }
  return "EVENT";
}

}  // namespace warden::ocsf
