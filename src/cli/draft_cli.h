/*
 * draft_cli.h - `atelier draft`: draft a design from a measurements file.
 */
#ifndef ATELIER_DRAFT_CLI_H
#define ATELIER_DRAFT_CLI_H

/* argv[0] is the command name ("draft"), argv[1] the design, then options:
 *   --measurements FILE   flat JSON object name -> number (mm; shoulderSlope
 *                         in degrees), "-" for standard input; required
 *   --breasts true|false  the body; default: true when FILE holds any
 *                         breasts-only measurement or the design is only
 *                         for bodies with breasts, else false
 *   --sa MM               seam allowance, 0..50, default 10
 *   --format svg|pdf      default svg (pdf when --paper is given)
 *   --paper a4|letter|full  PDF paper, default full
 *   --output FILE         default standard output
 *   --name NAME           model name in the titles, default FILE's base name
 * Exit status: 0 done, 1 invalid input (the message names every missing
 * measurement) or failure, 2 usage error. */
int draft_cli(int argc, char **argv);

#endif
