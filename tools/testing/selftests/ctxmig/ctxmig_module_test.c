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
	static const char *const models[] = {
		"amd-gfx9", "amd-gfx12", "intel-gen12", "nv-ampere", "nv-hopper",
	};
	char path[256], buf[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(models); i++) {
		snprintf(path, sizeof(path),
			 "/sys/class/mdev_bus/ctxmig/mdev_supported_types/ctxmig-%s/device_api",
			 models[i]);
		ASSERT_EQ(0, read_attr(path, buf, sizeof(buf))) {
			TH_LOG("%s missing", path);
		}
		EXPECT_STREQ("vfio-pci", buf);
		snprintf(path, sizeof(path),
			 "/sys/class/mdev_bus/ctxmig/mdev_supported_types/ctxmig-%s/available_instances",
			 models[i]);
		ASSERT_EQ(0, read_attr(path, buf, sizeof(buf)));
		EXPECT_LT(0, atoi(buf));
	}
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
