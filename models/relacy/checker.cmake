# The Relacy checker: model executables model_<scenario>, built with
# INTERLEAVE_CHECKER_RELACY so models/model.hpp includes relacy/adapter.hpp.
add_library(interleave_checker_relacy INTERFACE)
target_include_directories(interleave_checker_relacy INTERFACE ${RELACY_INCLUDE_DIR})
target_compile_definitions(interleave_checker_relacy INTERFACE INTERLEAVE_CHECKER_RELACY)
set_property(GLOBAL APPEND PROPERTY INTERLEAVE_MODEL_CHECKERS relacy)
