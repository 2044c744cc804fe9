# cmake -DHEADER=clockwork.pb-c.h -DOUT=clockwork_descriptors.inc -P list_descriptors.cmake
# Lists every message and enum descriptor protoc-c declared, one CW_MESSAGE(name) or
# CW_ENUM(name) line each, so tests can walk the whole schema without a hand-kept list.
file(STRINGS "${HEADER}" lines REGEX "^extern const ProtobufC(Message|Enum)Descriptor +clockwork__[a-z0-9_]+;")
set(out "/* Generated from clockwork.pb-c.h by src/proto/list_descriptors.cmake. */\n")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^extern const ProtobufCMessageDescriptor +([a-z0-9_]+);.*" "CW_MESSAGE(\\1)" line "${line}")
  string(REGEX REPLACE "^extern const ProtobufCEnumDescriptor +([a-z0-9_]+);.*" "CW_ENUM(\\1)" line "${line}")
  string(APPEND out "${line}\n")
endforeach()
file(WRITE "${OUT}" "${out}")
