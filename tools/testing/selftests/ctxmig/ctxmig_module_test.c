// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig: the module is loaded and visible as a VMM would see it.
 *
 * Run after vfio, vfio_iommu_type1, mdev and ctxmig are loaded.  Everything
 * here goes through sysfs and the VFIO container uAPI, never through
 * anything ctxmig-private.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Read a sysfs attribute into @buf without its trailing newline. */
static int read_attr(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

#define TYPES	"/sys/class/mdev_bus/ctxmig/mdev_supported_types"

static const char *const models[] = {
	"amd-gfx9", "amd-gfx12", "intel-gen12", "nv-ampere", "nv-hopper",
};

static int write_attr(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static long type_available(const char *model)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), TYPES "/ctxmig-%s/available_instances",
		 model);
	if (read_attr(path, buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

TEST(module_live)
{
	char buf[64];

	ASSERT_EQ(0, read_attr("/sys/module/ctxmig/initstate", buf,
			       sizeof(buf)));
	EXPECT_STREQ("live", buf);
}

TEST(module_not_in_use)
{
	char buf[64];

	/* No device is open, so nothing may hold a reference. */
	ASSERT_EQ(0, read_attr("/sys/module/ctxmig/refcnt", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
}

TEST(ir_version_matches_uapi)
{
	char buf[64];

	ASSERT_EQ(0, read_attr("/sys/module/ctxmig/parameters/ir_version",
			       buf, sizeof(buf)));
	EXPECT_STREQ(STR(CTXMIG_IR_VERSION_MAJOR) "."
		     STR(CTXMIG_IR_VERSION_MINOR), buf);
}

/* MODULE_VERSION: the release, digits and dots (VERSION in the tree). */
TEST(module_version)
{
	char buf[64];

	ASSERT_EQ(0, read_attr("/sys/module/ctxmig/version", buf,
			       sizeof(buf)));
	EXPECT_NE(0, strlen(buf));
	EXPECT_EQ(strlen(buf), strspn(buf, "0123456789.")) {
		TH_LOG("version \"%s\"", buf);
	}
}

TEST(ir_version_read_only)
{
	int fd = open("/sys/module/ctxmig/parameters/ir_version", O_WRONLY);

	EXPECT_EQ(-1, fd);
	if (fd >= 0)
		close(fd);
}

TEST(mdev_core_loaded)
{
	struct stat st;

	EXPECT_EQ(0, stat("/sys/module/mdev", &st));
	EXPECT_EQ(0, stat("/sys/module/vfio_iommu_type1", &st));
}

/* One mdev type per GPU model, under the ctxmig parent. */
TEST(mdev_types_registered)
{
	char path[256], buf[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(models); i++) {
		snprintf(path, sizeof(path), TYPES "/ctxmig-%s/device_api",
			 models[i]);
		ASSERT_EQ(0, read_attr(path, buf, sizeof(buf))) {
			TH_LOG("%s missing", path);
		}
		EXPECT_STREQ("vfio-pci", buf);
		snprintf(path, sizeof(path),
			 TYPES "/ctxmig-%s/available_instances", models[i]);
		ASSERT_EQ(0, read_attr(path, buf, sizeof(buf)));
		EXPECT_LT(0, atoi(buf));
	}
}

/*
 * What mdevctl and libvirt show of a type: its model and what a new
 * instance starts with, as the module parameters say, and the IR version.
 */
TEST(mdev_types_describe)
{
	char path[256], buf[512], vram[32], va[32], want[128];
	unsigned int i;

	ASSERT_EQ(0, read_attr("/sys/module/ctxmig/parameters/vram_mib", vram,
			       sizeof(vram)));
	ASSERT_EQ(0, read_attr("/sys/module/ctxmig/parameters/guest_va_bits",
			       va, sizeof(va)));
	for (i = 0; i < ARRAY_SIZE(models); i++) {
		snprintf(path, sizeof(path), TYPES "/ctxmig-%s/description",
			 models[i]);
		ASSERT_EQ(0, read_attr(path, buf, sizeof(buf))) {
			TH_LOG("%s missing", path);
		}
		EXPECT_EQ(NULL, strchr(buf, '\n')) {
			TH_LOG("%s: more than one line", path);
		}
		snprintf(want, sizeof(want), "; vram_mib=%s, va_bits=%s (max ",
			 vram, va);
		EXPECT_NE(NULL, strstr(buf, want)) {
			TH_LOG("%s: \"%s\" lacks \"%s\"", path, buf, want);
		}
		EXPECT_NE(NULL, strstr(buf, "), ir_version="
				       STR(CTXMIG_IR_VERSION_MAJOR) "."
				       STR(CTXMIG_IR_VERSION_MINOR))) {
			TH_LOG("%s: \"%s\"", path, buf);
		}
	}
}

/*
 * The instances are a pool every type draws from: an instance of one type
 * takes one from every type's count, and its removal gives it back.
 */
TEST(available_instances_shared)
{
	static const char uuid[] = "c7d1a0e5-0d13-4b5e-9a36-5a1e0000000d";
	long before[ARRAY_SIZE(models)];
	char path[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(models); i++) {
		before[i] = type_available(models[i]);
		ASSERT_LT(0, before[i]);
	}
	snprintf(path, sizeof(path), TYPES "/ctxmig-nv-ampere/create");
	ASSERT_EQ(0, write_attr(path, uuid));
	for (i = 0; i < ARRAY_SIZE(models); i++) {
		EXPECT_EQ(before[i] - 1, type_available(models[i])) {
			TH_LOG("type %u after one nv-ampere instance", i);
		}
	}
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	ASSERT_EQ(0, write_attr(path, "1"));
	for (i = 0; i < ARRAY_SIZE(models); i++)
		EXPECT_EQ(before[i], type_available(models[i]));
}

TEST(vfio_container_has_type1)
{
	int fd = open("/dev/vfio/vfio", O_RDWR);

	ASSERT_LE(0, fd) {
		TH_LOG("open /dev/vfio/vfio: %s", strerror(errno));
	}
	EXPECT_EQ(VFIO_API_VERSION, ioctl(fd, VFIO_GET_API_VERSION));
	/* With vfio_iommu_type1 registered, an empty container offers it. */
	EXPECT_EQ(1, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	close(fd);
}

TEST_HARNESS_MAIN
