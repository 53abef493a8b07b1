# siphon-fault.so, the misbehaving plugin of plugin_faults_test.cpp, in a
# folder of its own so that no other test loads it.
set(SIPHON_FAULT_PLUGIN_DIR ${CMAKE_CURRENT_BINARY_DIR}/fault-plugins)
siphon_add_plugin(siphon-fault SOURCES ${CMAKE_CURRENT_LIST_DIR}/fault_plugin.cpp
                  OUTPUT_DIRECTORY ${SIPHON_FAULT_PLUGIN_DIR})
target_compile_options(siphon-fault PRIVATE ${SIPHON_WARNINGS})
# The same plugin built as another file: its events say "variant":"swapped".
set(SIPHON_FAULT_VARIANT_DIR ${CMAKE_CURRENT_BINARY_DIR}/fault-plugin-variant)
siphon_add_plugin(siphon-fault-variant SOURCES ${CMAKE_CURRENT_LIST_DIR}/fault_plugin.cpp
                  OUTPUT_DIRECTORY ${SIPHON_FAULT_VARIANT_DIR})
target_compile_options(siphon-fault-variant PRIVATE ${SIPHON_WARNINGS})
target_compile_definitions(siphon-fault-variant PRIVATE SIPHON_FAULT_VARIANT="swapped")
if(TARGET reliability_test)
  target_compile_definitions(reliability_test PRIVATE
    SIPHON_FAULT_PLUGIN_DIR="${SIPHON_FAULT_PLUGIN_DIR}"
    SIPHON_FAULT_VARIANT_DIR="${SIPHON_FAULT_VARIANT_DIR}")
  add_dependencies(reliability_test siphon-fault siphon-fault-variant)
endif()
