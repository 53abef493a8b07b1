# siphon-fault.so, the misbehaving plugin of plugin_faults_test.cpp, in a
# folder of its own so that no other test loads it.
set(SIPHON_FAULT_PLUGIN_DIR ${CMAKE_CURRENT_BINARY_DIR}/fault-plugins)
siphon_add_plugin(siphon-fault SOURCES ${CMAKE_CURRENT_LIST_DIR}/fault_plugin.cpp
                  OUTPUT_DIRECTORY ${SIPHON_FAULT_PLUGIN_DIR})
target_compile_options(siphon-fault PRIVATE ${SIPHON_WARNINGS})
if(TARGET reliability_test)
  target_compile_definitions(reliability_test PRIVATE
    SIPHON_FAULT_PLUGIN_DIR="${SIPHON_FAULT_PLUGIN_DIR}")
  add_dependencies(reliability_test siphon-fault)
endif()
