/*
 * file.c - reading files with a size cap, writing them atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"

int tsr_file_read(const char *path, size_t max, struct tsr_buf *out)
{
	struct stat st;
	uint8_t chunk[8192];
	ssize_t n;
	int fd, r = 0;

	tsr_buf_reset(out);
	out->max = max;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tsr_error(errno == ENOENT ? TSR_ERR_NOT_FOUND : TSR_ERR_IO,
		    "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		r = tsr_error(TSR_ERR_TOO_LARGE, "%s: %lld bytes, more than the %zu allowed",
		    path, (long long)st.st_size, max);
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (tsr_buf_append(out, chunk, (size_t)n) != 0) {
			r = tsr_error(TSR_ERR_TOO_LARGE, "%s: more than the %zu bytes allowed", path, max);
			goto out;
		}
	}
out:
	tsr_wipe(chunk, sizeof(chunk));
	close(fd);
	return r;
}

int tsr_file_read_private(const char *path, size_t max, struct tsr_buf *out)
{
	uint8_t chunk[4096];
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	tsr_buf_free(out);
	tsr_buf_init_secret(out, max);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return tsr_error(TSR_ERR_POLICY, "%s is a symbolic link; name the file itself",
			    path);
		return tsr_error(errno == ENOENT ? TSR_ERR_NOT_FOUND : TSR_ERR_IO, "%s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0)
		r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		r = tsr_error(TSR_ERR_POLICY, "%s is not a regular file", path);
	else if (st.st_uid != geteuid())
		r = tsr_error(TSR_ERR_POLICY, "%s belongs to another user", path);
	else if ((st.st_mode & 077) != 0)
		r = tsr_error(TSR_ERR_POLICY, "%s can be read by others (mode %04o): chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
	else if ((uint64_t)st.st_size > max)
		r = tsr_error(TSR_ERR_TOO_LARGE, "%s: more than the %zu bytes allowed", path, max);
	while (r == 0 && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
		else if (tsr_buf_append(out, chunk, (size_t)n) != 0)
			r = tsr_error(TSR_ERR_TOO_LARGE, "%s: more than the %zu bytes allowed", path, max);
	}
	tsr_wipe(chunk, sizeof(chunk));
	close(fd);
	if (r != 0)
		tsr_buf_reset(out);
	return r;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The temporary file gets an unpredictable name from mkstemp() in the
 * target's directory (O_EXCL, never following a link), so a file planted
 * in a shared directory cannot redirect the write.
 */
int tsr_file_write(const char *path, const void *p, size_t n, unsigned mode)
{
	char *tmp = NULL;
	int fd = -1, r = 0;

	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
		return tsr_error(TSR_ERR_NOMEM, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
		free(tmp);
		return r;
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, p, n) != 0 || fsync(fd) != 0) {
		r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (r != 0)
		unlink(tmp);
	free(tmp);
	return r;
}

int tsr_file_create(const char *path, const void *p, size_t n, unsigned mode)
{
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return tsr_error(errno == EEXIST ? TSR_ERR_EXISTS : TSR_ERR_IO,
		    "%s: %s", path, strerror(errno));
	if (fchmod(fd, mode) != 0 || write_all(fd, p, n) != 0 || fsync(fd) != 0)
		r = tsr_error(TSR_ERR_IO, "%s: %s", path, strerror(errno));
	close(fd);
	if (r != 0)
		unlink(path);
	return r;
}

bool tsr_file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int tsr_dir_remove_tree(const char *path)
{
	if (!tsr_file_exists(path))
		return 0;
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return tsr_error(TSR_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

int tsr_path_join(const char *dir, const char *name, char **out)
{
	if (name[0] == '/') {
		*out = strdup(name);
	} else {
		size_t dl = strlen(dir);
		const char *sep = (dl > 0 && dir[dl - 1] == '/') ? "" : "/";

		if (asprintf(out, "%s%s%s", dir, sep, name) < 0)
			*out = NULL;
	}
	return *out ? 0 : tsr_error(TSR_ERR_NOMEM, "out of memory");
}
