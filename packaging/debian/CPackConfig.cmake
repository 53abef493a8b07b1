# Two Debian packages, built by scripts/package (cpack -G DEB):
#   siphon      the binary, the plugins, the systemd unit, /etc/siphon (conffiles),
#               logrotate, man page, bash completion, examples, monitoring files;
#   siphon-dev  the SDK: headers, static library and CMake package.
# Shared-library dependencies come from dpkg-shlibdeps.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME siphon)
set(CPACK_PACKAGE_VENDOR "Siphon")
set(CPACK_PACKAGE_CONTACT "Siphon maintainers <siphon@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "collector of security and audit logs from SaaS APIs")
set(CPACK_SET_DESTDIR ON)  # the unit and /etc are absolute destinations
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The binary and the plugins are stripped, as Debian ships them (the SDK's
# static library keeps its symbols).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME siphon)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "collector of security and audit logs from SaaS APIs\n\
Siphon pulls audit logs out of SaaS REST APIs (Box, Duo, Google Workspace,\n\
Slack, Salesforce ...) through plugins and delivers every event to a sink,\n\
committing each app's cursor only once the sink holds the events.")
# adduser creates the system account; init-system-helpers enables the unit.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/postinst
    ${CMAKE_CURRENT_LIST_DIR}/prerm
    ${CMAKE_CURRENT_LIST_DIR}/postrm)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME siphon-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "SDK for Siphon plugins\n\
Headers (the C ABI and the C++ SDK), the SDK's static library and the CMake\n\
package: find_package(Siphon) and siphon_add_plugin() build a plugin.")
# The SDK is a static library: a plugin links Poco and finds RapidJSON's headers.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libpoco-dev, rapidjson-dev, cmake (>= 3.20), g++ | c++-compiler")
# Siphon::csv (siphon/csv.hpp) links libcsv.
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "libcsv-dev")

include(CPack)
