# The Duo imitation's tests check the plugin's own canonical-string builder too.
target_sources(imitation_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins/duo/duo_signer.cpp)
target_include_directories(imitation_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins/duo)
