# Runs a differential program (api_diff: the call catalog; api_diff_live:
# live clusters) on Debian's libknet.so.1 and on ours and compares the
# outputs label by label.  A label may differ only if it is in the
# allowlist (tests/api/api_diff_allowed.txt, api_diff_live_allowed.txt:
# "<label> <reason>").
#
#   -DPROG=<program>  -DOURS_DIR=<dir holding our libknet.so.1>
#   -DREF_LIB=<reference libknet.so.1>  -DALLOWED=<allowlist file>
#   -DNAME=<name in messages> (default api_diff)
#
# Prints "SKIP: ..." (the test's SKIP_REGULAR_EXPRESSION) when the reference
# library is not installed.
if(NOT EXISTS "${REF_LIB}")
  message("SKIP: reference library ${REF_LIB} not installed")
  return()
endif()
if(NOT DEFINED NAME)
  set(NAME api_diff)
endif()

# --- run both ---------------------------------------------------------------
# The reference is the oracle, not what is tested.  A reference run that
# failed, or in which a cluster was not fully up in time (PMTUd included:
# "all_up_within_10s=0"; once in CI under full load 1.25 had not finished
# PMTUd on a 2-node cluster after 10 s), is retried once, and said.  Our
# library gets no second chance.
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH ${PROG}
  OUTPUT_VARIABLE ref_out ERROR_VARIABLE ref_err RESULT_VARIABLE ref_rc TIMEOUT 120)
string(REGEX MATCH "[^\n]*all_up_within_[0-9]+s=0" ref_not_up "${ref_out}")
if(NOT ref_rc EQUAL 0 OR ref_not_up)
  message("${NAME}: the reference run failed (${ref_rc}) or a cluster was not up in time "
          "('${ref_not_up}'), running it once more:\n${ref_err}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH ${PROG}
    OUTPUT_VARIABLE ref_out ERROR_VARIABLE ref_err RESULT_VARIABLE ref_rc TIMEOUT 120)
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${OURS_DIR} ${PROG}
  OUTPUT_VARIABLE our_out ERROR_VARIABLE our_err RESULT_VARIABLE our_rc TIMEOUT 120)
if(NOT ref_rc EQUAL 0)
  message(FATAL_ERROR "${NAME} failed on the reference library (${ref_rc}):\n${ref_err}")
endif()
if(NOT our_rc EQUAL 0)
  message(FATAL_ERROR "${NAME} failed on our library (${our_rc}):\n${our_err}")
endif()

# --- each run must have mapped the library it was meant to ------------------
get_filename_component(ref_real "${REF_LIB}" REALPATH)
get_filename_component(ours_real "${OURS_DIR}" REALPATH)
string(REGEX MATCH "libknet: ([^\n]*)" m "${ref_err}")
set(ref_mapped "${CMAKE_MATCH_1}")
string(REGEX MATCH "libknet: ([^\n]*)" m "${our_err}")
set(our_mapped "${CMAKE_MATCH_1}")
if(NOT ref_mapped STREQUAL ref_real)
  message(FATAL_ERROR "reference run mapped '${ref_mapped}', expected '${ref_real}'")
endif()
string(FIND "${our_mapped}" "${ours_real}/" pos)
if(NOT pos EQUAL 0)
  message(FATAL_ERROR "our run mapped '${our_mapped}', expected a library in '${ours_real}'")
endif()

# --- allowlist ----------------------------------------------------------------
file(STRINGS "${ALLOWED}" allow_lines)
set(allowed_labels)
foreach(line IN LISTS allow_lines)
  if(line MATCHES "^[ \t]*(#|$)")
    continue()
  endif()
  if(NOT line MATCHES "^([^ \t]+)[ \t]+(.+)$")
    message(FATAL_ERROR "allowlist line without a reason: '${line}'")
  endif()
  list(APPEND allowed_labels "${CMAKE_MATCH_1}")
  set("reason_${CMAKE_MATCH_1}" "${CMAKE_MATCH_2}")
endforeach()

# --- index both outputs by label ----------------------------------------------
# (the programs keep '[', ']' and ';' out of their lines, so list splitting is safe)
foreach(which ref our)
  string(REPLACE "\n" ";" lines "${${which}_out}")
  set(${which}_labels)
  foreach(line IN LISTS lines)
    if(line STREQUAL "" OR line MATCHES "^END ")
      continue()
    endif()
    if(NOT line MATCHES "^([^ ]+) (.*)$")
      message(FATAL_ERROR "unparsable ${which} line: '${line}'")
    endif()
    set(label "${CMAKE_MATCH_1}")
    if(DEFINED "${which}_line_${label}")
      message(FATAL_ERROR "label '${label}' printed twice by the ${which} run")
    endif()
    set("${which}_line_${label}" "${CMAKE_MATCH_2}")
    list(APPEND ${which}_labels "${label}")
  endforeach()
endforeach()
set(all_labels ${ref_labels} ${our_labels})
list(REMOVE_DUPLICATES all_labels)

# --- compare --------------------------------------------------------------------
set(failures "")
set(nallowed 0)
set(differing)
foreach(label IN LISTS all_labels)
  if(DEFINED "ref_line_${label}")
    set(r "${ref_line_${label}}")
  else()
    set(r "(not printed)")
  endif()
  if(DEFINED "our_line_${label}")
    set(o "${our_line_${label}}")
  else()
    set(o "(not printed)")
  endif()
  if(r STREQUAL o)
    continue()
  endif()
  list(APPEND differing "${label}")
  list(FIND allowed_labels "${label}" idx)
  if(idx GREATER -1)
    math(EXPR nallowed "${nallowed} + 1")
    message(STATUS "allowed: ${label} (${reason_${label}})")
  else()
    string(APPEND failures "\n  ${label}\n    reference: ${r}\n    ours:      ${o}")
  endif()
endforeach()
foreach(label IN LISTS allowed_labels)
  list(FIND differing "${label}" idx)
  if(idx EQUAL -1)
    message(STATUS "note: allowlisted '${label}' does not differ in this run")
  endif()
endforeach()

list(LENGTH ref_labels nref)
list(LENGTH our_labels nour)
if(NOT failures STREQUAL "")
  message(FATAL_ERROR "${NAME}: behaviour differs from the reference (${nref} reference labels, "
                      "${nour} ours; not in the allowlist):${failures}")
endif()
message(STATUS "${NAME}: ${nref} reference labels, ${nour} ours: identical apart from ${nallowed} allowlisted")
