/*
 * draft_cli.h - `atelier draft`: draft a design from a measurements file.
 */
#ifndef ATELIER_DRAFT_CLI_H
#define ATELIER_DRAFT_CLI_H

/* argv[0] is the command name ("draft"), argv[1] the design, then options:
 *   --measurements FILE   flat JSON object name -> number (mm; shoulderSlope
 *                         in degrees), "-" for standard input; required. A
 *                         whole FreeSewing set is fine: names the design
 *                         does not use are ignored (any value), null is
 *                         "not measured"; names outside the vocabulary are
 *                         refused (a typing mistake)
 *   --breasts true|false  the body; default: what the design is for (true
 *                         for bodice, false for body and trouser), never
 *                         guessed from the names in FILE
 *   --sa MM               seam allowance, 0..50, default 10
 *   --format svg|pdf      default svg (pdf when --paper is given)
 *   --paper a4|letter|full  PDF paper, default full
 *   --units metric|imperial  labels and scale box, default metric
 *   --date YYYY-MM-DD     the date in the titles, default today (UTC)
 *   --output FILE         default standard output
 *   --name NAME           model name in the titles, default FILE's base name
 * Warnings (odd but drawable measurements) go to standard error, one line
 * each ("atelier draft: warning: CODE: message"), and the pattern is
 * written. Exit status: 0 done, 1 invalid input (the message names every
 * missing measurement) or failure, 2 usage error. */
int draft_cli(int argc, char **argv);

#endif
