# siphon_add_plugin(<name> SOURCES <files...> [LIBRARIES <targets...>]
#                   [OUTPUT_DIRECTORY <dir>])
#
# Builds <name>.so, a Siphon plugin: a module linked with the SDK, every
# symbol hidden but the one entry symbol, loadable by any siphon host that
# accepts its ABI version.
function(siphon_add_plugin name)
  cmake_parse_arguments(P "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "siphon_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  target_link_libraries(${name} PRIVATE Siphon::sdk ${P_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(P_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  elseif(DEFINED SIPHON_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${SIPHON_PLUGIN_OUTPUT_DIR})
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Keeps libstdc++'s STB_GNU_UNIQUE symbols out, so the plugin can unload.
    target_compile_options(${name} PRIVATE -fno-gnu-unique)
  endif()
  if(NOT APPLE AND NOT WIN32)
    target_link_options(${name} PRIVATE "LINKER:--version-script=${SIPHON_PLUGIN_MAP}"
                        "LINKER:--no-undefined")
  endif()
endfunction()
