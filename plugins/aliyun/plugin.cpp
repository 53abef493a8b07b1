// siphon-aliyun: Alibaba Cloud ActionTrail events (LookupEvents).
#include <siphon/sdk.hpp>

#include "aliyun_actiontrail.hpp"

SIPHON_PLUGIN("siphon-aliyun", "1.0.0", siphon::aliyun::AliyunActionTrail)
