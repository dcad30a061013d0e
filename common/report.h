/*
 * The one-line error every Parley program prints on stderr, in one
 * shape: "<program>: <subject>: <message>". The shared program code
 * (files, pin, passphrase) reports through it, so a message reads the
 * same whichever program met the problem.
 */
#ifndef PARLEY_COMMON_REPORT_H
#define PARLEY_COMMON_REPORT_H

/*
 * Prints "<program>: <subject>: <message>\n" on stderr, the program
 * being the name it was started under; subject (a file, an option) may
 * be NULL.
 */
void report_error(const char *subject, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
