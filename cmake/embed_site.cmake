# Turn the files of the site (web/) into a C source OUT defining the table
# declared in src/api/site.h:
#   const struct site_file site_files[]; const unsigned long site_files_count;
# DIR is the web/ folder; every regular file under it is embedded, named by
# its path relative to DIR ("index.html", "assets/app.js"). Run by CMake at
# build time whenever a file of web/ changes.
file(GLOB_RECURSE files RELATIVE ${DIR} ${DIR}/*)
list(SORT files)
set(arrays "")
set(table "")
set(i 0)
foreach(f ${files})
  if(IS_DIRECTORY ${DIR}/${f})
    continue()
  endif()
  file(READ ${DIR}/${f} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
  string(APPEND arrays "static const unsigned char site_f${i}[] = {${body}0x00};\n")
  string(APPEND table "    {\"${f}\", site_f${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT} "/* generated from ${DIR} by cmake/embed_site.cmake; do not edit */\n"
  "#include \"api/site.h\"\n\n${arrays}\n"
  "const struct site_file site_files[] = {\n${table}};\n"
  "const unsigned long site_files_count = ${i};\n")
