/*
 * The parley-keys commands. Each takes its own argv (argv[0] is the
 * command's name, e.g. "brand init") and returns the process exit code.
 */
#ifndef KEYS_COMMANDS_H
#define KEYS_COMMANDS_H

int cmd_brand_init(int argc, char **argv);
int cmd_brand_client_pin(int argc, char **argv);
int cmd_brand_sign(int argc, char **argv);
int cmd_brand_revoke(int argc, char **argv);
int cmd_brand_directory(int argc, char **argv);
int cmd_agent_request(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_brand_order(int argc, char **argv);

struct files_object;
struct parley_pin;
/* Prints an order file's fields; verified when pin is not NULL. An exit code. */
int keys_show_order(const char *path, const struct files_object *f, const struct parley_pin *pin);

#endif
