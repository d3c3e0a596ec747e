#include "ocsf/event.h"

namespace warden::ocsf {

std::string_view Event::activityName() const {
  if (!activity_name.empty()) return activity_name;
  const std::string_view c = activityCaption(class_uid, activity_id);
  return c.empty() ? std::string_view(activity_id == 99 ? "Other" : "Unknown") : c;
}

}  // namespace warden::ocsf
