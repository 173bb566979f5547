# carbon_warnings: the warning flags every target of ours links. Generated
# code (protobuf, gRPC) links carbon_sanitize only.
add_library(carbon_warnings INTERFACE)
target_compile_options(carbon_warnings INTERFACE -Wall -Wextra -Werror -Wshadow=local -Wnon-virtual-dtor)

# Debug information. By default line tables only (-g1): backtraces,
# sanitizer reports and perf profiles keep their file:line, and a build
# compiles about a fifth faster than with full DWARF. CARBON_FULL_DEBUG_INFO
# restores -g (variables and types, for gdb; the paths in debug information
# are relative to the checkout, below: run gdb from there, or use its
# `set substitute-path`).
option(CARBON_FULL_DEBUG_INFO "Full debug information (-g) instead of line tables (-g1)" OFF)
if(NOT CARBON_FULL_DEBUG_INFO)
  add_compile_options($<$<CONFIG:Debug,RelWithDebInfo>:-g1>)
endif()
# Paths in debug information are relative to the checkout, so that two
# checkouts produce the same objects and share ccache's entries: with
# CCACHE_BASEDIR (set by scripts/build.sh) ccache hashes the build directory
# after this mapping, so a fresh clone hits what another checkout compiled,
# for build directories inside the checkout (build/, build-sanitize/, ...).
# The few test files given an absolute path by -D (tests/CMakeLists.txt) miss.
add_compile_options(-fdebug-prefix-map=${PROJECT_SOURCE_DIR}=.)

# Test code (targets with the property CARBON_TEST_CODE, set by carbon_test in
# tests/CMakeLists.txt) is compiled at -O1 in optimised builds: the code under
# test keeps the build's level, and the test files, most of the build's time
# at -O2, compile in half the time.
define_property(TARGET PROPERTY CARBON_TEST_CODE
  BRIEF_DOCS "Test code: -O1 in optimised builds, UBSan without its pointer checks")
set(carbon_is_test_code "$<BOOL:$<TARGET_PROPERTY:CARBON_TEST_CODE>>")
target_compile_options(carbon_warnings INTERFACE
  "$<$<AND:${carbon_is_test_code},$<CONFIG:RelWithDebInfo,Release>>:-O1>")

# carbon_sanitize: the sanitizer flags chosen by CARBON_SANITIZE / CARBON_TSAN.
# Under CARBON_SANITIZE the code under test (src/) carries AddressSanitizer and
# every UndefinedBehaviorSanitizer check. Test files carry AddressSanitizer and
# UBSan without its pointer checks (alignment, null, vptr, object-size): those
# on GoogleTest's assertion macros more than double a test file's compile time
# at -O0. The arithmetic checks (signed overflow, shifts, bounds, ...) stay on,
# also for the inline and template code of src/ that a test file instantiates.
# A test target with the property CARBON_FULL_UBSAN (common_test: the rings
# and amounts, header-only) keeps every check.
define_property(TARGET PROPERTY CARBON_FULL_UBSAN
  BRIEF_DOCS "Test code that keeps every UBSan check under CARBON_SANITIZE")
add_library(carbon_sanitize INTERFACE)
if(CARBON_SANITIZE)
  set(carbon_light_ubsan "$<AND:${carbon_is_test_code},$<NOT:$<BOOL:$<TARGET_PROPERTY:CARBON_FULL_UBSAN>>>>")
  target_compile_options(carbon_sanitize INTERFACE -fsanitize=address,undefined
    "$<${carbon_light_ubsan}:-fno-sanitize=alignment$<COMMA>null$<COMMA>vptr$<COMMA>object-size>"
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(carbon_sanitize INTERFACE -fsanitize=address,undefined)
elseif(CARBON_TSAN)
  target_compile_options(carbon_sanitize INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(carbon_sanitize INTERFACE -fsanitize=thread)
endif()
target_link_libraries(carbon_warnings INTERFACE carbon_sanitize)
