# Optional CUDA device (cuDNN + cuBLAS): library cw_backend_cuda. CLOCKWORK_CUDA=AUTO (default)
# builds it when nvcc, cuDNN and cuBLAS are found; ON requires them; OFF skips it. Sets
# CW_HAVE_CUDA and CW_BACKEND_CUDA (cw_backend_cuda, or empty) for the library lists of the
# programs and tests that may run on a GPU; what links it is compiled with CLOCKWORK_HAVE_CUDA.
set(CLOCKWORK_CUDA AUTO CACHE STRING "Build the CUDA device backend: AUTO, ON or OFF")
set_property(CACHE CLOCKWORK_CUDA PROPERTY STRINGS AUTO ON OFF)
set(CW_HAVE_CUDA OFF)
set(CW_BACKEND_CUDA)

function(cw_cuda_missing why)
  if(CLOCKWORK_CUDA STREQUAL "ON")
    message(FATAL_ERROR "CLOCKWORK_CUDA=ON but ${why}")
  endif()
  message(STATUS "CUDA device (cuDNN/cuBLAS): disabled (${why})")
endfunction()

if(NOT CLOCKWORK_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER)
    find_program(CW_NVCC nvcc PATHS /usr/local/cuda/bin ENV CUDA_PATH PATH_SUFFIXES bin)
    if(CW_NVCC)
      set(CMAKE_CUDA_COMPILER ${CW_NVCC})
    endif()
  endif()
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    # Hopper machine code (H100/H200) plus its PTX, which newer GPUs compile at load.
    set(CMAKE_CUDA_ARCHITECTURES "90-real;90-virtual")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    cw_cuda_missing("no working nvcc (set CMAKE_CUDA_COMPILER or install the CUDA toolkit)")
  else()
    enable_language(CUDA)
    find_package(CUDAToolkit)
    find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
    find_library(CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR})
    if(NOT CUDAToolkit_FOUND OR NOT TARGET CUDA::cublas OR NOT CUDNN_INCLUDE_DIR OR NOT CUDNN_LIBRARY)
      cw_cuda_missing("the CUDA toolkit, cuBLAS or cuDNN was not found")
    else()
      set(CW_HAVE_CUDA ON)
    endif()
  endif()
endif()

if(CW_HAVE_CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  # The CUDA runtime is linked statically (it finds the driver at run time, so the programs
  # start on machines without one); cuDNN and cuBLAS are shared libraries.
  cw_library(cw_backend_cuda backend/cuda cw_backend cw_model cw_common CUDA::cudart_static CUDA::cublas
             ${CUDNN_LIBRARY} ${CMAKE_DL_LIBS} stdc++)
  target_sources(cw_backend_cuda PRIVATE ${CMAKE_SOURCE_DIR}/src/backend/cuda/cuda_kernels.cu)
  target_compile_options(cw_backend_cuda PRIVATE
    "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Werror;--Werror=all-warnings>")
  target_include_directories(cw_backend_cuda SYSTEM PUBLIC ${CUDAToolkit_INCLUDE_DIRS} ${CUDNN_INCLUDE_DIR})
  target_compile_definitions(cw_backend_cuda INTERFACE CLOCKWORK_HAVE_CUDA=1)
  set(CW_BACKEND_CUDA cw_backend_cuda)
  message(STATUS "CUDA device (cuDNN/cuBLAS): enabled (CUDA ${CUDAToolkit_VERSION}, archs ${CMAKE_CUDA_ARCHITECTURES})")
endif()
