# Turn the files of the site (web/) into a C source OUT defining the table
# declared in src/api/site.h:
#   const struct site_file site_files[]; const unsigned long site_files_count;
# DIR is the web/ folder; every regular file under it is embedded, named by
# its path relative to DIR ("index.html", "assets/app.js"). Run by CMake at
# build time whenever a file of web/ changes.
#
# Versions: every asset (assets/...) gets the first 12 hex digits of the
# SHA-256 of its bytes as its version, and every link of a page to an asset
# ("/assets/app.js" in quotes) gets "?v=<version>" appended, so that the
# server can let browsers keep a versioned asset for good (handlers_site.c):
# a new build changes the version, hence the link, of every asset it changes.
file(GLOB_RECURSE files RELATIVE ${DIR} ${DIR}/*)
list(SORT files)
set(TMP ${OUT}.d)
file(REMOVE_RECURSE ${TMP})
set(assets "")
foreach(f ${files})
  if(NOT IS_DIRECTORY ${DIR}/${f} AND f MATCHES "^assets/")
    file(SHA256 ${DIR}/${f} h)
    string(SUBSTRING "${h}" 0 12 "version_${f}")
    list(APPEND assets ${f})
  endif()
endforeach()
set(arrays "")
set(table "")
set(i 0)
foreach(f ${files})
  if(IS_DIRECTORY ${DIR}/${f})
    continue()
  endif()
  set(src ${DIR}/${f})
  if(f MATCHES "\\.html$")
    file(READ ${src} text)
    foreach(a ${assets})
      string(REPLACE "\"/${a}\"" "\"/${a}?v=${version_${a}}\"" text "${text}")
    endforeach()
    set(src ${TMP}/${f})
    file(WRITE ${src} "${text}")
  endif()
  file(READ ${src} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
  string(APPEND arrays "static const unsigned char site_f${i}[] = {${body}0x00};\n")
  string(APPEND table "    {\"${f}\", site_f${i}, ${len}, \"${version_${f}}\"},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(REMOVE_RECURSE ${TMP})
file(WRITE ${OUT} "/* generated from ${DIR} by cmake/embed_site.cmake; do not edit */\n"
  "#include \"api/site.h\"\n\n${arrays}\n"
  "const struct site_file site_files[] = {\n${table}};\n"
  "const unsigned long site_files_count = ${i};\n")
