# The project's own DPOR checker: model executables model_<scenario>_dpor,
# built with INTERLEAVE_CHECKER_DPOR so models/model.hpp includes
# dpor/adapter.hpp.
add_library(interleave_checker_dpor INTERFACE)
target_link_libraries(interleave_checker_dpor INTERFACE interleave_dpor)
target_compile_definitions(interleave_checker_dpor INTERFACE INTERLEAVE_CHECKER_DPOR)
set_property(GLOBAL APPEND PROPERTY INTERLEAVE_MODEL_CHECKERS dpor)
