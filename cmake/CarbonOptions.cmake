# carbon_warnings: the warning flags every target of ours links. Generated
# code (protobuf, gRPC) links carbon_sanitize only.
add_library(carbon_warnings INTERFACE)
target_compile_options(carbon_warnings INTERFACE -Wall -Wextra -Werror -Wshadow=local -Wnon-virtual-dtor)

# carbon_sanitize: the sanitizer flags chosen by CARBON_SANITIZE / CARBON_TSAN.
add_library(carbon_sanitize INTERFACE)
if(CARBON_SANITIZE)
  target_compile_options(carbon_sanitize INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(carbon_sanitize INTERFACE -fsanitize=address,undefined)
elseif(CARBON_TSAN)
  target_compile_options(carbon_sanitize INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(carbon_sanitize INTERFACE -fsanitize=thread)
endif()
target_link_libraries(carbon_warnings INTERFACE carbon_sanitize)
