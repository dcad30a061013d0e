/*
 * Brand pin files for the programs: read with the size cap of a pin,
 * parsed by libparley (parley_pin_parse, the one parser of the pin line)
 * and checked to be the kind of pin the program needs, with a message
 * that names the right file when it is the other kind.
 */
#ifndef PARLEY_COMMON_PIN_H
#define PARLEY_COMMON_PIN_H

#include <parley/pin.h>

enum pin_use {
    PIN_ANY,    /* either kind (parley-keys) */
    PIN_CLIENT, /* a client pin, with the directory key (widgets, agents) */
    PIN_RELAY   /* a relay pin: the directory key must never reach a relay */
};

/*
 * Reads and parses the pin file at path into *pin. Prints one error line
 * naming the file and returns -1 when it cannot be read, is not a pin, or
 * is not the kind use asks for (*pin is then zeroed); 0 otherwise. A
 * client pin holds the directory key: sodium_memzero *pin when done.
 */
int pin_load(const char *path, enum pin_use use, parley_pin *pin);

#endif
