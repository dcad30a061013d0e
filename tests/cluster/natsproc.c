/*
 * nats-server processes for the cluster tests (natsproc.h). The
 * monitoring endpoints answer JSON; the few values read here are found
 * by key, which is all a test needs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "natsproc.h"
#include "relayproc.h"

#define START_ATTEMPTS 3

/* ------------------------------------------------------------------ */
/* JSON values by key */

/* Where the value of the first "key" at or after p starts (past the colon and blanks), or NULL. */
static const char *json_value(const char *p, const char *key)
{
    char quoted[80];
    int n = snprintf(quoted, sizeof(quoted), "\"%s\"", key);

    if (p == NULL || n <= 0 || (size_t)n >= sizeof(quoted))
        return NULL;
    while ((p = strstr(p, quoted)) != NULL) {
        p += n;
        p += strspn(p, " \t\r\n");
        if (*p == ':')
            return p + 1 + strspn(p + 1, " \t\r\n");
    }
    return NULL;
}

/* Copies the string value of key into out; 0, or -1 when absent, not a string or empty. */
static int json_string(const char *p, const char *key, char *out, size_t cap)
{
    const char *v = json_value(p, key), *end;

    if (v == NULL || *v != '"')
        return -1;
    end = strchr(v + 1, '"');
    if (end == NULL || end == v + 1 || (size_t)(end - v - 1) >= cap)
        return -1;
    memcpy(out, v + 1, (size_t)(end - v - 1));
    out[end - v - 1] = '\0';
    return 0;
}

static int json_u64(const char *p, const char *key, uint64_t *out)
{
    const char *v = json_value(p, key);
    char *end;

    if (v == NULL || *v < '0' || *v > '9')
        return -1;
    errno = 0;
    *out = strtoull(v, &end, 10);
    return errno == 0 && end != v ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Processes */

bool natsproc_runnable(const char *bin)
{
    pid_t parent = getpid(), pid;
    int st;

    if (bin == NULL || bin[0] == '\0' || access(bin, X_OK) != 0)
        return false;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        child_redirect("/dev/null", parent);
        execl(bin, bin, "--version", (char *)NULL);
        _exit(127);
    }
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* n * 3 distinct free loopback ports, held open together so none is handed out twice. */
static int pick_ports(uint16_t *ports, size_t n)
{
    int fds[NATSPROC_NODES * 3];
    int rc = 0;

    for (size_t i = 0; i < n; i++)
        fds[i] = -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
        socklen_t len = sizeof(a);

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof(a)) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&a, &len) != 0)
            rc = -1;
        else
            ports[i] = ntohs(a.sin_port);
    }
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

static int spawn(struct natsproc *c, size_t i)
{
    struct natsproc_node *nd = &c->node[i];
    pid_t parent = getpid();
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char v[64];

        child_redirect(nd->log, parent);
        setenv("PARLEY_NATS_NAME", nd->name, 1);
        snprintf(v, sizeof(v), "%u", nd->port);
        setenv("PARLEY_NATS_PORT", v, 1);
        snprintf(v, sizeof(v), "127.0.0.1:%u", nd->http_port);
        setenv("PARLEY_NATS_HTTP", v, 1);
        snprintf(v, sizeof(v), "127.0.0.1:%u", nd->cluster_port);
        setenv("PARLEY_NATS_CLUSTER", v, 1);
        setenv("PARLEY_NATS_STORE", nd->store, 1);
        for (size_t k = 0; k < NATSPROC_NODES; k++) {
            char name[32];
            /* Fewer nodes than routes: the spare ones point at the first node. */
            snprintf(name, sizeof(name), "PARLEY_NATS_ROUTE%zu", k + 1);
            snprintf(v, sizeof(v), "nats-route://127.0.0.1:%u",
                     c->node[k < c->n ? k : 0].cluster_port);
            setenv(name, v, 1);
        }
        execl(c->bin, c->bin, "-c", c->conf, (char *)NULL);
        _exit(127);
    }
    nd->pid = pid;
    return 0;
}

static bool alive(struct natsproc_node *nd)
{
    if (nd->pid == 0)
        return false;
    if (waitpid(nd->pid, NULL, WNOHANG) == nd->pid) {
        nd->pid = 0;
        return false;
    }
    return true;
}

static int launch(struct natsproc *c)
{
    uint16_t ports[NATSPROC_NODES * 3];

    if (pick_ports(ports, c->n * 3) != 0)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        struct natsproc_node *nd = &c->node[i];

        nd->port = ports[3 * i];
        nd->cluster_port = ports[3 * i + 1];
        nd->http_port = ports[3 * i + 2];
        snprintf(c->urls[i], sizeof(c->urls[i]), "nats://127.0.0.1:%u", nd->port);
    }
    for (size_t i = 0; i < c->n; i++)
        if (spawn(c, i) != 0)
            return -1;
    return 0;
}

int natsproc_start(struct natsproc *c, const char *bin, const char *conf, const char *dir,
                   size_t n, int timeout_ms)
{
    memset(c, 0, sizeof(*c));
    c->bin = bin;
    c->conf = conf;
    c->n = n < NATSPROC_NODES ? n : NATSPROC_NODES;
    snprintf(c->dir, sizeof(c->dir), "%s", dir);
    for (size_t i = 0; i < c->n; i++) {
        struct natsproc_node *nd = &c->node[i];

        snprintf(nd->name, sizeof(nd->name), "n%u", (unsigned)(i + 1) % 10u);
        snprintf(nd->store, sizeof(nd->store), "%s/%s", dir, nd->name);
        snprintf(nd->log, sizeof(nd->log), "%s/%s.log", dir, nd->name);
        if (mkdir(nd->store, 0700) != 0 && errno != EEXIST)
            return -1;
    }
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        bool exited = false;

        if (launch(c) == 0 && natsproc_wait_ready(c, timeout_ms) == 0)
            return 0;
        /* A node that exited at once most likely lost its port to another process: new ports. */
        for (size_t i = 0; i < c->n; i++)
            exited = exited || !alive(&c->node[i]);
        natsproc_stop(c, 5000);
        if (!exited)
            break;
    }
    fprintf(stderr, "the NATS cluster did not form (logs in %s)\n", dir);
    natsproc_show_logs(c);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Readiness */

static bool node_healthy(struct natsproc *c, size_t i)
{
    char *body = NULL;
    int status = http_get(c->node[i].http_port, "/healthz", &body);

    free(body);
    return status == 200;
}

int natsproc_meta_leader(struct natsproc *c, size_t i, char *out, size_t cap)
{
    char *body = NULL;
    int rc = -1;

    if (http_get(c->node[i].http_port, "/jsz", &body) == 200 && body != NULL)
        rc = json_string(json_value(body, "meta_cluster"), "leader", out, cap);
    free(body);
    return rc;
}

int natsproc_wait_node(struct natsproc *c, size_t i, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;

    while (mono_ms() < deadline) {
        if (!alive(&c->node[i]))
            return -1;
        if (node_healthy(c, i))
            return 0;
        sleep_ms(50);
    }
    return -1;
}

/* Every running node healthy and naming one and the same meta leader. */
static bool cluster_ready(struct natsproc *c)
{
    char first[32] = "", leader[32];
    size_t running = 0;

    for (size_t i = 0; i < c->n; i++) {
        if (c->node[i].pid == 0)
            continue;
        running++;
        if (!node_healthy(c, i) || natsproc_meta_leader(c, i, leader, sizeof(leader)) != 0)
            return false;
        if (first[0] == '\0')
            snprintf(first, sizeof(first), "%s", leader);
        else if (strcmp(first, leader) != 0)
            return false;
    }
    return running > 0;
}

int natsproc_wait_ready(struct natsproc *c, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;

    while (mono_ms() < deadline) {
        for (size_t i = 0; i < c->n; i++)
            if (c->node[i].pid != 0 && !alive(&c->node[i]))
                return -1;
        if (cluster_ready(c))
            return 0;
        sleep_ms(50);
    }
    return -1;
}

int natsproc_index(const struct natsproc *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->node[i].name, name) == 0)
            return (int)i;
    return -1;
}

int natsproc_stream_state(struct natsproc *c, size_t i, const char *stream, uint64_t *messages,
                          uint64_t *last_seq)
{
    char *body = NULL;
    const char *p = NULL;
    size_t n = strlen(stream);
    int rc = -1;

    if (http_get(c->node[i].http_port, "/jsz?streams=true", &body) == 200 && body != NULL)
        p = json_value(body, "stream_detail");
    /* Each stream's entry: "name", ..., "state": {"messages", ..., "last_seq"}. */
    while ((p = json_value(p, "name")) != NULL) {
        if (p[0] != '"' || strncmp(p + 1, stream, n) != 0 || p[1 + n] != '"')
            continue;
        p = json_value(p, "state");
        if (json_u64(p, "messages", messages) == 0 && json_u64(p, "last_seq", last_seq) == 0)
            rc = 0;
        break;
    }
    free(body);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Killing, restarting, stopping */

void natsproc_kill(struct natsproc *c, size_t i)
{
    struct natsproc_node *nd = &c->node[i];

    if (nd->pid == 0)
        return;
    kill(nd->pid, SIGKILL);
    waitpid(nd->pid, NULL, 0);
    nd->pid = 0;
}

int natsproc_restart(struct natsproc *c, size_t i)
{
    if (c->node[i].pid != 0)
        return -1;
    return spawn(c, i);
}

void natsproc_stop(struct natsproc *c, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    bool left = true;

    for (size_t i = 0; i < c->n; i++)
        if (c->node[i].pid != 0)
            kill(c->node[i].pid, SIGTERM);
    while (left && mono_ms() < deadline) {
        left = false;
        for (size_t i = 0; i < c->n; i++)
            left = alive(&c->node[i]) || left;
        if (left)
            sleep_ms(20);
    }
    for (size_t i = 0; i < c->n; i++)
        natsproc_kill(c, i);
}

void natsproc_show_logs(const struct natsproc *c)
{
    for (size_t i = 0; i < c->n; i++) {
        size_t len = 0;
        char *log = read_file_all(c->node[i].log, &len);

        if (log == NULL)
            continue;
        fprintf(stderr, "---- %s (%s), last lines ----\n%s\n----\n", c->node[i].name,
                c->node[i].log, len > 3000 ? log + len - 3000 : log);
        free(log);
    }
}
