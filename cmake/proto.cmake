# The gateway API (proto/warden/v1/*.proto) compiled with Debian's protoc and grpc_cpp_plugin into
# the library warden_proto. Only src/gateway/proto_convert.* should include the generated headers
# (style.md); tests of the API contract include them too.
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_program(WARDEN_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

file(GLOB warden_protos CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/proto/warden/v1/*.proto)
set(warden_proto_gen ${CMAKE_BINARY_DIR}/gen)
set(warden_proto_srcs)
foreach(proto ${warden_protos})
  get_filename_component(name ${proto} NAME_WE)
  set(base ${warden_proto_gen}/warden/v1/${name})
  add_custom_command(
    OUTPUT ${base}.pb.cc ${base}.pb.h ${base}.grpc.pb.cc ${base}.grpc.pb.h
    COMMAND ${CMAKE_COMMAND} -E make_directory ${warden_proto_gen}
    COMMAND ${Protobuf_PROTOC_EXECUTABLE} --proto_path=${CMAKE_SOURCE_DIR}/proto --cpp_out=${warden_proto_gen}
            --grpc_out=${warden_proto_gen} --plugin=protoc-gen-grpc=${WARDEN_GRPC_CPP_PLUGIN} ${proto}
    DEPENDS ${proto}
    COMMENT "protoc ${name}.proto")
  list(APPEND warden_proto_srcs ${base}.pb.cc ${base}.grpc.pb.cc)
endforeach()

add_library(warden_proto STATIC ${warden_proto_srcs})
target_include_directories(warden_proto SYSTEM PUBLIC ${warden_proto_gen})
target_link_libraries(warden_proto PUBLIC gRPC::grpc++ protobuf::libprotobuf)
# Generated code is not ours to warn about.
target_compile_options(warden_proto PRIVATE -w)
