# Turn the file IN into a C source OUT defining
#   const unsigned char NAME[]; const unsigned long NAME_len;
# (the array is NUL-terminated; NAME_len excludes the NUL).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUT} "/* generated from ${IN}; do not edit */\n"
  "const unsigned char ${NAME}[] = {${body}0x00};\n"
  "const unsigned long ${NAME}_len = ${len};\n")
