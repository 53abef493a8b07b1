# The Salesforce imitation's tests read its CSV back with the plugin's own
# libcsv-based reader.
target_sources(imitation_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins/salesforce/log_file_csv.cpp)
target_include_directories(imitation_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins/salesforce)
target_link_libraries(imitation_test PRIVATE csv)
