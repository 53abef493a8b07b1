# The Aliyun imitation's tests check the plugin's own signer too.
target_sources(imitation_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins/aliyun/aliyun_signer.cpp)
target_include_directories(imitation_test PRIVATE ${PROJECT_SOURCE_DIR}/plugins/aliyun)
