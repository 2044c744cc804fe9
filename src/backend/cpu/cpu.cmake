# Optional CPU device (oneDNN) and ONNX converter: component cw_backend_cpu, built only when oneDNN
# and onnx.proto (libdnnl-dev, libonnx-dev) are installed. Sets CW_HAVE_CPU.
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.h)
find_library(DNNL_LIBRARY dnnl)
find_file(ONNX_PROTO onnx/onnx.proto PATHS /usr/include /usr/local/include)
find_library(GOMP_LIBRARY NAMES gomp libgomp.so.1 PATHS /usr/lib/x86_64-linux-gnu)
set(CW_HAVE_CPU OFF)
if(DNNL_INCLUDE_DIR AND DNNL_LIBRARY AND ONNX_PROTO AND GOMP_LIBRARY)
  set(CW_HAVE_CPU ON)
  set(ONNX_OUT ${CMAKE_BINARY_DIR}/gen/onnx)
  file(MAKE_DIRECTORY ${ONNX_OUT})
  get_filename_component(ONNX_PROTO_DIR ${ONNX_PROTO} DIRECTORY)
  add_custom_command(
    OUTPUT ${ONNX_OUT}/onnx.pb-c.c ${ONNX_OUT}/onnx.pb-c.h
    COMMAND ${PROTOC_C} --c_out=${ONNX_OUT} -I${ONNX_PROTO_DIR} ${ONNX_PROTO}
    DEPENDS ${ONNX_PROTO}
    COMMENT "protoc-c onnx.proto")
  set_source_files_properties(${ONNX_OUT}/onnx.pb-c.c PROPERTIES COMPILE_OPTIONS "-Wno-unused-parameter")
  cw_library(cw_backend_cpu backend/cpu cw_backend cw_model cw_common PkgConfig::PROTOBUFC ${DNNL_LIBRARY}
             ${GOMP_LIBRARY} m pthread)
  target_sources(cw_backend_cpu PRIVATE ${ONNX_OUT}/onnx.pb-c.c)
  target_include_directories(cw_backend_cpu PUBLIC ${DNNL_INCLUDE_DIR} ${ONNX_OUT})
  message(STATUS "CPU device (oneDNN) and ONNX converter: enabled")
else()
  message(STATUS "CPU device (oneDNN) and ONNX converter: disabled (install libdnnl-dev libonnx-dev)")
endif()
