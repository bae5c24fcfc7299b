# ci/scenarios.cmake — every scenario, its rows, and which layers check each
# row: the one declaration the build and the verification matrix both read.
#
#   interleave_scenario(<scenario>
#     [NA <layer> "<reason>"]...
#     ROW <row> [NA <layer> "<reason>"]...
#     ...)
#
# <scenario> names the files of every layer: models/<scenario>_model.cpp,
# property_tests/<scenario>_props.cpp, stress/<scenario>_stress.cpp and
# stress/<scenario>_stress_test.cpp. models/, property_tests/ and stress/
# build one executable per scenario from INTERLEAVE_MODEL_SCENARIOS,
# INTERLEAVE_PROPERTY_SCENARIOS and INTERLEAVE_STRESS_SCENARIOS
# (INTERLEAVE_SCENARIOS lists them all). Each ROW is a row of the matrix, in
# the order printed; every layer (model, property, stress) checks it unless
# an NA names the layer and says why that layer cannot observe the row's
# behaviour. An NA before the first ROW applies to the whole scenario: that
# layer has no file for it, and every row of it is n/a there with that
# reason. The matrix fails:
#   - a checked cell with no record, or with a failed record (a test that
#     started and never finished counts as failed);
#   - an n/a cell that received a record (n/a never hides a check);
#   - a row with fewer than two checked layers;
#   - a record for a row that is not declared here.
# Configuring writes ${PROJECT_BINARY_DIR}/matrix_rows.tsv for the matrix tool:
# one line per row, "<row>\t<scenario>\t<model>\t<property>\t<stress>", each
# layer "checked" or "n/a: <reason>". A reason is one line without a semicolon
# (CMake would split it into two arguments).

set(INTERLEAVE_LAYERS model property stress)

function(interleave_scenario scenario)
  set_property(GLOBAL APPEND PROPERTY INTERLEAVE_SCENARIOS ${scenario})
  foreach(layer IN LISTS INTERLEAVE_LAYERS)
    unset(scenario_na_${layer})
    unset(na_${layer})
  endforeach()
  set(row "")
  set(state "")  # ROW, NA_LAYER, NA_REASON
  set(lines "")
  macro(flush_row)
    if(row)
      string(APPEND lines "${row}\t${scenario}")
      foreach(layer IN LISTS INTERLEAVE_LAYERS)
        if(DEFINED na_${layer})
          string(APPEND lines "\tn/a: ${na_${layer}}")
          unset(na_${layer})
        elseif(DEFINED scenario_na_${layer})
          string(APPEND lines "\tn/a: ${scenario_na_${layer}}")
        else()
          string(APPEND lines "\tchecked")
        endif()
      endforeach()
      string(APPEND lines "\n")
    endif()
  endmacro()
  foreach(arg IN LISTS ARGN)
    if(state STREQUAL "ROW")
      set(row "${arg}")
      set(state "")
    elseif(state STREQUAL "NA_LAYER")
      if(NOT arg IN_LIST INTERLEAVE_LAYERS)
        message(FATAL_ERROR "interleave_scenario(${scenario}): NA names layer '${arg}', not one of ${INTERLEAVE_LAYERS}")
      endif()
      set(na_layer "${arg}")
      set(state "NA_REASON")
    elseif(state STREQUAL "NA_REASON")
      if(arg STREQUAL "" OR arg MATCHES "[\t\n]")
        message(FATAL_ERROR "interleave_scenario(${scenario}): row ${row}: NA ${na_layer} needs a one-line reason")
      endif()
      if(row)
        set(na_${na_layer} "${arg}")
      else()
        set(scenario_na_${na_layer} "${arg}")
      endif()
      set(state "")
    elseif(arg STREQUAL "ROW")
      flush_row()
      set(state "ROW")
    elseif(arg STREQUAL "NA")
      set(state "NA_LAYER")
    else()
      message(FATAL_ERROR "interleave_scenario(${scenario}): unexpected '${arg}' (expected ROW <row> or NA <layer> <reason>)")
    endif()
  endforeach()
  if(state)
    message(FATAL_ERROR "interleave_scenario(${scenario}): ${state} is missing its value at the end")
  endif()
  flush_row()
  if(lines STREQUAL "")
    message(FATAL_ERROR "interleave_scenario(${scenario}): no ROW")
  endif()
  set_property(GLOBAL APPEND_STRING PROPERTY INTERLEAVE_MATRIX_ROWS "${lines}")
  foreach(layer IN LISTS INTERLEAVE_LAYERS)
    if(NOT DEFINED scenario_na_${layer})
      string(TOUPPER "${layer}" upper)
      set_property(GLOBAL APPEND PROPERTY INTERLEAVE_${upper}_SCENARIOS ${scenario})
    endif()
  endforeach()
endfunction()

set(plain_race_reason "the twin's only defect is a data race (undefined behaviour) with no observable effect on real threads: the worker's loop calls its pause on every step, so the flag is re-read, and it ends at its limit anyway (the model and TSan layers see the race)")

interleave_scenario(counter
  ROW counter.racy_plain
  ROW counter.racy_relaxed
  ROW counter.locked
  ROW counter.atomic)

interleave_scenario(queue
  ROW queue
  ROW queue.broken_notify_one
  ROW queue.broken_join_unlocked
  ROW queue.shutdown
  ROW producer_consumer.sentinel
  ROW producer_consumer.join_race
  ROW producer_consumer.fixed
  ROW producer_consumer.2x2)

interleave_scenario(lock
  ROW lock
  ROW lock.broken_unlocked_release
    NA property "the twin's lost wake-up needs its unlocked release to land in the few instructions between a waiter's check and its wait, which real threads almost never do (the model and TSan see the unlocked write itself)")

interleave_scenario(event
  ROW event
  ROW event.broken_unlocked_check
  ROW event.broken_relaxed_flag
    NA property "a relaxed load that misses the setter's writes is a weak-memory outcome x86-64 never produces on real threads, and the data race itself is undefined behaviour with no observable effect there (the models and TSan see it)")

interleave_scenario(barrier
  ROW barrier
  ROW barrier.broken_no_generation
  ROW barrier.thread_local)

interleave_scenario(stop
  ROW stop.plain_flag NA property "${plain_race_reason}"
  ROW stop.atomic_flag
  ROW stop.stop_token)

set(join_twin_reason "the early return is an ordering bug: TSan would report the resulting race in the test's own exit code and reads, never at an impl line, so it cannot tie the failure to the defect (the model and property layers see the early return itself)")

interleave_scenario(thread
  ROW thread.lifecycle
  ROW thread.join_exit
  ROW thread.broken_early_join NA stress "${join_twin_reason}"
  ROW thread.broken_any_death_join NA stress "${join_twin_reason}"
  ROW thread.throwing_target
  ROW thread_local.exit
    NA model "model threads are fibers of one OS thread with no thread-exit hook in the model backends: a ThreadLocal's slots there live until it dies (the property and stress layers run real threads)"
  ROW interleavings.obiwan_anakin
  ROW interleavings.broken_unlocked_size
    NA property "the twin's only defect is a data race on a word-sized count (undefined behaviour) with no observable effect on this machine's real threads (the model and TSan layers see the race)")

interleave_scenario(thread_pool
  ROW future
  ROW thread_pool
  ROW thread_pool.broken_unlocked_check
  ROW thread_pool.broken_shutdown_notify_one
  ROW thread_pool.reuse
  ROW thread_pool.cancel_race
  ROW as_completed
  ROW wait)

interleave_scenario(mergesort
  ROW mergesort.sequential
    NA model "one thread has one interleaving: nothing for a model checker to explore (the property layer checks the result)"
  ROW mergesort.threads
  ROW mergesort.threads.broken_unlocked_merge
  ROW mergesort.processes
  ROW mergesort.processes.broken_merges_lost_chunk
    NA stress "the twin's defect is a chunk merged unsorted after its worker died, not a data race: ThreadSanitizer has nothing to report (the model and property layers catch the unsorted result)")

interleave_scenario(process
  ROW process.lifecycle)

interleave_scenario(ipc
  ROW ipc.queue.stop_sentinel
  ROW ipc.queue.broken_blocks_mid_record
    NA stress "the twin's defect is a read that blocks for ever after its writer was killed: no data race for TSan to report (the model finds the hang and the property test sees it through the join timeout)"
  ROW ipc.queue.broken_ignores_dead_reader
    NA stress "the twin's defect is a get that reads from inside a record after a reader died holding the read lock: no data race for TSan to report (the model and the property test see the misframed read)"
  ROW ipc.queue.join_before_drain
  ROW ipc.pipe
  ROW ipc.pipe.broken_keeps_write_end)

interleave_scenario(process_pool
  ROW process_pool
  ROW process_pool.reuse
  ROW process_pool.broken_worker
  ROW process_pool.broken_ignores_dead_worker)

interleave_scenario(timeout
  ROW timeout.seed_program
  ROW timeout.fixed
  ROW timeout.broken_outcome_first
    NA stress "the twin's defect is an order of two stores cut by a kill, not a data race: the parent reads the block only after the child is reaped, so ThreadSanitizer has nothing to report (the model and the property test see the cut result returned)")

get_property(INTERLEAVE_SCENARIOS GLOBAL PROPERTY INTERLEAVE_SCENARIOS)
foreach(layer IN LISTS INTERLEAVE_LAYERS)
  string(TOUPPER "${layer}" upper)
  get_property(INTERLEAVE_${upper}_SCENARIOS GLOBAL PROPERTY INTERLEAVE_${upper}_SCENARIOS)
endforeach()
get_property(interleave_matrix_rows GLOBAL PROPERTY INTERLEAVE_MATRIX_ROWS)
file(WRITE ${PROJECT_BINARY_DIR}/matrix_rows.tsv "${interleave_matrix_rows}")
