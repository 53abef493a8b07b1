# The Salesforce imitation's tests read its CSV back with the SDK's CSV reader
# (as the plugin does), and check the plugin's cursor arithmetic.
target_sources(imitation_test PRIVATE
  ${PROJECT_SOURCE_DIR}/plugins/salesforce/event_log_app.cpp)
target_include_directories(imitation_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins/salesforce)
target_link_libraries(imitation_test PRIVATE Siphon::csv)
