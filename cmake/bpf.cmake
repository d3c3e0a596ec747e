# warden_bpf_skeleton(TARGET SOURCE NAME): compiles SOURCE (a CO-RE BPF program, src/...) with clang
# -target bpf and generates its libbpf skeleton NAME.skel.h (bpftool gen skeleton) into the build tree,
# where TARGET's sources include it as "NAME.skel.h"; TARGET links libbpf.
#
# The kernel types come from a hand-written header beside the program (preserve_access_index: CO-RE
# relocates every field access at load time), not from a vmlinux.h dumped from the build machine's
# /sys/kernel/btf/vmlinux: the build then needs no BTF-enabled kernel and the same source gives the
# same object on any machine (docs/capture.md, "Kernel types").
find_program(WARDEN_BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(WARDEN_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf>=1.1)

function(warden_bpf_skeleton target source name)
  set(src ${CMAKE_SOURCE_DIR}/src/${source})
  get_filename_component(dir ${src} DIRECTORY)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/bpf)
  set(obj ${out_dir}/${name}.bpf.o)
  set(skel ${out_dir}/${name}.skel.h)
  file(GLOB headers CONFIGURE_DEPENDS ${dir}/*.h)
  # The multiarch include directory holds asm/types.h for <linux/types.h>.
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch OUTPUT_VARIABLE multiarch
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT multiarch)
    set(multiarch x86_64-linux-gnu)
  endif()
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${WARDEN_BPF_CLANG} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86
            -I/usr/include/${multiarch} -I${dir} -c ${src} -o ${obj}
    COMMAND ${WARDEN_BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${src} ${headers}
    COMMENT "BPF: compiling ${source} and generating ${name}.skel.h"
    VERBATIM)
  add_custom_target(${target}_skeleton DEPENDS ${skel})
  add_dependencies(${target} ${target}_skeleton)
  target_include_directories(${target} PRIVATE ${out_dir})
  target_link_libraries(${target} PUBLIC PkgConfig::LIBBPF)
endfunction()
