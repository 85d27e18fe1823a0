/* Channels: add/remove/get datafd, get_channel, knet_send/knet_recv,
 * knet_send_sync argument checks. */
#include <sys/socket.h>

#include "test_common.h"

static int is_cloexec_nonblock(int fd)
{
	return (fcntl(fd, F_GETFD) & FD_CLOEXEC) && (fcntl(fd, F_GETFL) & O_NONBLOCK);
}

static void test_add_remove(knet_handle_t h)
{
	int datafd = 0, fd2, i;
	int8_t channel = 0, ch2;
	int fds[KNET_DATAFD_MAX];
	int8_t chans[KNET_DATAFD_MAX];
	int user[2];

	CHECK_FAIL(knet_handle_add_datafd(NULL, &datafd, &channel), EINVAL);
	CHECK_FAIL(knet_handle_add_datafd(h, NULL, &channel), EINVAL);
	CHECK_FAIL(knet_handle_add_datafd(h, &datafd, NULL), EINVAL);
	channel = KNET_DATAFD_MAX;
	CHECK_FAIL(knet_handle_add_datafd(h, &datafd, &channel), EINVAL);
	datafd = -1;
	channel = -1;
	CHECK_FAIL(knet_handle_add_datafd(h, &datafd, &channel), EINVAL);

	/* sock_notify is required first */
	datafd = 0;
	channel = -1;
	CHECK_FAIL(knet_handle_add_datafd(h, &datafd, &channel), EINVAL);
	CHECK_OK(knet_handle_enable_sock_notify(h, NULL, tc_sock_notify));

	/* library-created socketpair on an automatic channel */
	CHECK_OK(knet_handle_add_datafd(h, &datafd, &channel));
	CHECK(datafd > 0);
	CHECK(channel == 0);
	CHECK(is_cloexec_nonblock(datafd));
	CHECK_FAIL(knet_handle_add_datafd(h, &datafd, &channel), EEXIST);
	fd2 = 0;
	CHECK_FAIL(knet_handle_add_datafd(h, &fd2, &channel), EBUSY);

	CHECK_FAIL(knet_handle_get_datafd(NULL, channel, &fd2), EINVAL);
	CHECK_FAIL(knet_handle_get_datafd(h, -1, &fd2), EINVAL);
	CHECK_FAIL(knet_handle_get_datafd(h, KNET_DATAFD_MAX, &fd2), EINVAL);
	CHECK_FAIL(knet_handle_get_datafd(h, channel, NULL), EINVAL);
	CHECK_FAIL(knet_handle_get_datafd(h, 5, &fd2), EINVAL);
	fd2 = -1;
	CHECK_OK(knet_handle_get_datafd(h, channel, &fd2));
	CHECK(fd2 == datafd);

	CHECK_FAIL(knet_handle_get_channel(NULL, datafd, &ch2), EINVAL);
	CHECK_FAIL(knet_handle_get_channel(h, 0, &ch2), EINVAL);
	CHECK_FAIL(knet_handle_get_channel(h, datafd, NULL), EINVAL);
	CHECK_FAIL(knet_handle_get_channel(h, datafd + 100, &ch2), EINVAL);
	ch2 = -1;
	CHECK_OK(knet_handle_get_channel(h, datafd, &ch2));
	CHECK(ch2 == channel);

	CHECK_FAIL(knet_handle_remove_datafd(NULL, datafd), EINVAL);
	CHECK_FAIL(knet_handle_remove_datafd(h, 0), EINVAL);
	CHECK_FAIL(knet_handle_remove_datafd(h, -3), EINVAL);
	CHECK_FAIL(knet_handle_remove_datafd(h, datafd + 100), EINVAL);
	CHECK_OK(knet_handle_remove_datafd(h, datafd));
	CHECK(fcntl(datafd, F_GETFD) < 0 && errno == EBADF); /* we closed our pair */
	CHECK_FAIL(knet_handle_get_datafd(h, channel, &fd2), EINVAL);

	/* a user fd on a chosen channel: made CLOEXEC and NONBLOCK, not closed */
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, user) == 0);
	channel = 7;
	CHECK_OK(knet_handle_add_datafd(h, &user[0], &channel));
	CHECK(channel == 7);
	CHECK(is_cloexec_nonblock(user[0]));
	CHECK_OK(knet_handle_remove_datafd(h, user[0]));
	CHECK(fcntl(user[0], F_GETFD) >= 0);
	close(user[0]);
	close(user[1]);

	/* all 32 channels, then no more */
	for (i = 0; i < KNET_DATAFD_MAX; i++) {
		fds[i] = 0;
		chans[i] = -1;
		CHECK_OK(knet_handle_add_datafd(h, &fds[i], &chans[i]));
		CHECK(chans[i] == i);
	}
	datafd = 0;
	channel = -1;
	CHECK_FAIL(knet_handle_add_datafd(h, &datafd, &channel), EBUSY);
	for (i = 0; i < KNET_DATAFD_MAX; i++)
		CHECK_OK(knet_handle_remove_datafd(h, fds[i]));
}

static void test_send_recv(knet_handle_t h)
{
	static char big[KNET_MAX_PACKET_SIZE + 1];
	char buf[64];
	int datafd = 0;
	int8_t channel = -1;

	CHECK_OK(knet_handle_add_datafd(h, &datafd, &channel));

	CHECK_FAIL(knet_send(NULL, "x", 1, channel), EINVAL);
	CHECK_FAIL(knet_send(h, NULL, 1, channel), EINVAL);
	CHECK_FAIL(knet_send(h, "x", 0, channel), EINVAL);
	CHECK_FAIL(knet_send(h, big, KNET_MAX_PACKET_SIZE + 1, channel), EINVAL);
	CHECK_FAIL(knet_send(h, "x", 1, -1), EINVAL);
	CHECK_FAIL(knet_send(h, "x", 1, KNET_DATAFD_MAX), EINVAL);
	CHECK_FAIL(knet_send(h, "x", 1, channel + 1), EINVAL);

	CHECK_FAIL(knet_recv(NULL, buf, sizeof(buf), channel), EINVAL);
	CHECK_FAIL(knet_recv(h, NULL, sizeof(buf), channel), EINVAL);
	CHECK_FAIL(knet_recv(h, buf, 0, channel), EINVAL);
	CHECK_FAIL(knet_recv(h, big, KNET_MAX_PACKET_SIZE + 1, channel), EINVAL);
	CHECK_FAIL(knet_recv(h, buf, sizeof(buf), -1), EINVAL);
	CHECK_FAIL(knet_recv(h, buf, sizeof(buf), KNET_DATAFD_MAX), EINVAL);
	CHECK_FAIL(knet_recv(h, buf, sizeof(buf), channel + 1), EINVAL);
	/* nothing received yet: the non-blocking read says so */
	CHECK_FAIL(knet_recv(h, buf, sizeof(buf), channel), EAGAIN);

	/* knet_send writes the channel's datafd (which the engine reads) */
	CHECK(knet_send(h, "hello", 5, channel) == 5);

	CHECK_FAIL(knet_send_sync(NULL, "x", 1, channel), EINVAL);
	CHECK_FAIL(knet_send_sync(h, NULL, 1, channel), EINVAL);
	CHECK_FAIL(knet_send_sync(h, "x", 0, channel), EINVAL);
	CHECK_FAIL(knet_send_sync(h, big, KNET_MAX_PACKET_SIZE + 1, channel), EINVAL);
	CHECK_FAIL(knet_send_sync(h, "x", 1, -1), EINVAL);
	CHECK_FAIL(knet_send_sync(h, "x", 1, KNET_DATAFD_MAX), EINVAL);
	CHECK_FAIL(knet_send_sync(h, "x", 1, channel), ENETDOWN); /* no filter */
	CHECK_OK(knet_handle_enable_filter(h, NULL, tc_filter));
	CHECK_FAIL(knet_send_sync(h, "x", 1, channel + 1), EINVAL);

	/* left attached on purpose: knet_handle_free releases it */
}

int main(void)
{
	knet_handle_t h = tc_handle(1);

	CHECK(h != NULL);
	if (h) {
		test_add_remove(h);
		test_send_recv(h);
		CHECK_OK(knet_handle_free(h));
	}
	return tc_finish();
}
