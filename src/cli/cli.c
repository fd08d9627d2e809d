#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/err.h"

/* ---- tables and messages ------------------------------------------------ */

int ist_cli_dispatch(const char *prefix, const struct ist_cli_cmd *cmds, size_t n_cmds, int argc, char **argv)
{
	for (size_t i = 0; i < n_cmds; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	ist_cli_err("unknown command '%s %s' (see '%s --help')", prefix, argv[0], prefix);
	return IST_CLI_USAGE;
}

void ist_cli_print_usage(FILE *out, const char *head, const struct ist_cli_cmd *cmds, size_t n_cmds,
			 const char *tail)
{
	fputs(head, out);
	for (size_t i = 0; i < n_cmds; i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fputs(tail, out);
}

int ist_cli_group(const char *cmd, const char *head, const struct ist_cli_cmd *cmds, size_t n_cmds, const char *tail,
		  int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	ist_cli_getopt_reset();
	int c;
	/* '+': stop at the subcommand name; what follows is the subcommand's */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c == 'h') {
			ist_cli_print_usage(stdout, head, cmds, n_cmds, tail);
			return IST_CLI_OK;
		}
		return ist_cli_bad_option(cmd, c, argv);
	}
	if (optind >= argc) {
		ist_cli_print_usage(stderr, head, cmds, n_cmds, tail);
		return IST_CLI_USAGE;
	}
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "isthmus %s", cmd);
	return ist_cli_dispatch(prefix, cmds, n_cmds, argc - optind, argv + optind);
}

static void IST_PRINTF(2, 0) vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fflush(stdout);
	fprintf(stderr, "isthmus: %s%s\n", prefix, line);
}

void ist_cli_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void ist_cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline("warning: ", fmt, ap);
	va_end(ap);
}

int ist_cli_usage_err(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd)
		ist_cli_err("%s: %s (see 'isthmus %s --help')", cmd, msg, cmd);
	else
		ist_cli_err("%s (see 'isthmus --help')", msg);
	return IST_CLI_USAGE;
}

void ist_cli_getopt_reset(void)
{
	optind = 0;   /* glibc: full re-initialisation */
	opterr = 0;
}

int ist_cli_bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (c == ':')
		return ist_cli_usage_err(cmd, "option '%s' needs an argument", arg);
	if (optopt > 0 && optopt < 256 && strncmp(arg, "--", 2) != 0)
		return ist_cli_usage_err(cmd, "unknown option '-%c'", optopt);
	return ist_cli_usage_err(cmd, "unknown option '%s'", arg);
}

int ist_cli_help(const char *text)
{
	fputs(text, stdout);
	return IST_CLI_OK;
}

/* ---- passphrases ----------------------------------------------------------- */

#define PASS_CAP (IST_KEYSTORE_PASSPHRASE_MAX + 2)

static int pass_alloc(struct ist_cli_pass *p)
{
	p->buf = sodium_malloc(PASS_CAP);
	p->len = 0;
	if (!p->buf) {
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	sodium_memzero(p->buf, PASS_CAP);
	return 0;
}

void ist_cli_passphrase_free(struct ist_cli_pass *p)
{
	if (p->buf)
		sodium_free(p->buf);   /* wipes */
	p->buf = NULL;
	p->len = 0;
}

static int pass_from_file(const char *file, struct ist_cli_pass *p)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ist_cli_err("%s: cannot open the passphrase file: %s", file, strerror(errno));
		return -IST_EPASSPHRASE;
	}
	size_t len = 0;
	bool eol = false;
	int r = 0;
	/* read only up to the first newline: the rest of the file is none of
	 * our business */
	while (!eol && len < PASS_CAP - 1) {
		ssize_t n = read(fd, p->buf + len, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ist_cli_err("%s: cannot read the passphrase file: %s", file, strerror(errno));
			r = -IST_EPASSPHRASE;
			break;
		}
		if (n == 0)
			break;
		if (p->buf[len] == '\n')
			eol = true;
		else
			len++;
	}
	close(fd);
	if (r < 0)
		return r;
	if (len > 0 && p->buf[len - 1] == '\r')
		len--;
	if (len > IST_KEYSTORE_PASSPHRASE_MAX) {
		ist_cli_err("%s: passphrase longer than %d bytes", file, IST_KEYSTORE_PASSPHRASE_MAX);
		return -IST_EPASSPHRASE;
	}
	if (len == 0) {
		ist_cli_err("%s: the passphrase is empty", file);
		return -IST_EPASSPHRASE;
	}
	p->buf[len] = '\0';
	p->len = len;
	return 0;
}

/* The terminal state to put back if a signal interrupts a prompt. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

static void restore_tty_and_die(int sig)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* prompt_line's answer when it could not turn echo off */
#define PROMPT_ECHO_ON (-2)

/* Prompts on stderr and reads one line from the terminal on stdin without
 * echo. Returns the length, -1 (error, or longer than the maximum), or
 * PROMPT_ECHO_ON when echo could not be turned off: then nothing is prompted
 * or read, since what the operator typed would show on the screen. */
static long prompt_line(const char *prompt, char *buf, size_t cap)
{
	/* echo goes off before the prompt appears, so that nothing typed at the
	 * prompt is ever echoed; TCSANOW keeps what was already typed */
	struct termios tio, quiet, now;
	if (tcgetattr(STDIN_FILENO, &tio) != 0)
		return PROMPT_ECHO_ON;
	struct sigaction sa, old_int, old_term, old_hup;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_tty_and_die;
	saved_tio = tio;
	tio_saved = 1;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	quiet = tio;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	/* tcsetattr succeeds when it made any of the changes: look again */
	bool silent = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0 && tcgetattr(STDIN_FILENO, &now) == 0 &&
		      !(now.c_lflag & ECHO);
	size_t len = 0;
	bool too_long = false, failed = false;
	if (silent) {
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
		for (;;) {
			char c;
			ssize_t n = read(STDIN_FILENO, &c, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				failed = n < 0 || len == 0;
				break;
			}
			if (c == '\n')
				break;
			if (len < cap - 1)
				buf[len++] = c;
			else
				too_long = true;
			c = 0;
		}
	}
	tcsetattr(STDIN_FILENO, TCSANOW, &tio);
	tio_saved = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (!silent)
		return PROMPT_ECHO_ON;
	fputc('\n', stderr);
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (failed || too_long || len > IST_KEYSTORE_PASSPHRASE_MAX)
		return -1;
	return (long)len;
}

static int pass_from_tty(bool confirm, const char *what, struct ist_cli_pass *p)
{
	char prompt[160];
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", what);
	long n = prompt_line(prompt, p->buf, PASS_CAP);
	if (n == PROMPT_ECHO_ON) {
		ist_cli_err("cannot turn off echo on the terminal: not asking for the passphrase "
			    "(use --passphrase-file FILE or ISTHMUS_PASSPHRASE)");
		return -IST_EPASSPHRASE;
	}
	if (n < 0) {
		ist_cli_err("no passphrase read from the terminal (at most %d bytes)", IST_KEYSTORE_PASSPHRASE_MAX);
		return -IST_EPASSPHRASE;
	}
	if (n == 0) {
		ist_cli_err("the passphrase is empty");
		return -IST_EPASSPHRASE;
	}
	p->len = (size_t)n;
	if (!confirm)
		return 0;
	struct ist_cli_pass again = { 0 };
	if (pass_alloc(&again) < 0)
		return -IST_ENOMEM;
	long m = prompt_line("Repeat the passphrase: ", again.buf, PASS_CAP);
	bool same = m == n && sodium_memcmp(again.buf, p->buf, (size_t)n) == 0;
	ist_cli_passphrase_free(&again);
	if (m == PROMPT_ECHO_ON) {
		ist_cli_err("cannot turn off echo on the terminal: not asking for the passphrase again");
		return -IST_EPASSPHRASE;
	}
	if (!same) {
		ist_cli_err("the passphrases do not match");
		return -IST_EPASSPHRASE;
	}
	return 0;
}

int ist_cli_passphrase_get(const char *file, bool confirm, const char *what, struct ist_cli_pass *ret)
{
	struct ist_cli_pass p = { 0 };
	int r = pass_alloc(&p);
	if (r < 0)
		return r;
	const char *env = getenv("ISTHMUS_PASSPHRASE");
	if (file) {
		r = pass_from_file(file, &p);
	} else if (env) {
		size_t n = strlen(env);
		if (n == 0) {
			ist_cli_err("ISTHMUS_PASSPHRASE is set but empty");
			r = -IST_EPASSPHRASE;
		} else if (n > IST_KEYSTORE_PASSPHRASE_MAX) {
			ist_cli_err("ISTHMUS_PASSPHRASE is longer than %d bytes", IST_KEYSTORE_PASSPHRASE_MAX);
			r = -IST_EPASSPHRASE;
		} else {
			memcpy(p.buf, env, n);
			p.len = n;
		}
	} else if (isatty(STDIN_FILENO)) {
		r = pass_from_tty(confirm, what, &p);
	} else {
		ist_cli_err("no passphrase: use --passphrase-file FILE, set ISTHMUS_PASSPHRASE, or run on a terminal");
		r = -IST_EPASSPHRASE;
	}
	if (r < 0) {
		ist_cli_passphrase_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

/* ---- places and settings -------------------------------------------------- */

/* $HOME, else the user's home in the password database; NULL when neither. */
static const char *user_home(void)
{
	const char *h = getenv("HOME");
	if (h && *h)
		return h;
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_dir : NULL;
}

/* `opt` when given, else $ISTHMUS_HOME, else ~/.isthmus; `sub` ("" or
 * "/keys") is appended to the last two. `what` names the option in the
 * error. Malloc'd, or NULL after printing an error. */
static char *home_or(const char *opt, const char *sub, const char *what)
{
	char *dir = NULL;
	int n;
	const char *home;
	if (opt && *opt) {
		n = asprintf(&dir, "%s", opt);
	} else if ((home = getenv("ISTHMUS_HOME")) && *home) {
		n = asprintf(&dir, "%s%s", home, sub);
	} else if ((home = user_home())) {
		n = asprintf(&dir, "%s/.isthmus%s", home, sub);
	} else {
		ist_cli_err("no home directory: use %s or set ISTHMUS_HOME", what);
		return NULL;
	}
	if (n < 0) {
		ist_cli_err("out of memory");
		return NULL;
	}
	return dir;
}

char *ist_cli_keystore_dir(const char *opt)
{
	return home_or(opt, "/keys", "--keystore DIR");
}

char *ist_cli_home_dir(const char *opt)
{
	return home_or(opt, "", "--home DIR");
}

int ist_cli_kdf(bool fast, struct ist_keystore_kdf *ret_kdf)
{
	const char *env = getenv("ISTHMUS_KEYSTORE_KDF");
	if (env && *env && strcmp(env, "fast") != 0 && strcmp(env, "default") != 0) {
		ist_cli_err("ISTHMUS_KEYSTORE_KDF must be 'fast' or 'default'");
		return -IST_EINVAL;
	}
	if (fast || (env && strcmp(env, "fast") == 0))
		*ret_kdf = ist_keystore_kdf_fast();
	else
		*ret_kdf = ist_keystore_kdf_default();
	return 0;
}

int ist_cli_print_json(json_t *j)
{
	if (!j) {
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	int r = json_dumpf(j, stdout, JSON_INDENT(2));
	json_decref(j);
	if (r < 0 || fputc('\n', stdout) == EOF) {
		ist_cli_err("cannot write to standard output");
		return -IST_EIO;
	}
	return 0;
}
