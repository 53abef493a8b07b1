# The Salesforce imitation's tests read its CSV back with the plugin's own
# libcsv-based reader, and check the plugin's cursor arithmetic.
target_sources(imitation_test PRIVATE
  ${PROJECT_SOURCE_DIR}/plugins/salesforce/log_file_csv.cpp
  ${PROJECT_SOURCE_DIR}/plugins/salesforce/event_log_app.cpp
  ${PROJECT_SOURCE_DIR}/plugins/salesforce/salesforce_client.cpp)
target_include_directories(imitation_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins/salesforce)
target_link_libraries(imitation_test PRIVATE csv)
