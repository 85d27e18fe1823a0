/*
 * libknet.h - public C API of this libknet 1.x implementation (API version 1).
 *
 * The names, constants, struct layouts and signatures below are those of the
 * libknet 1.x API, so that programs built against any libknet 1.x header run
 * on this library unchanged (ABI compatibility).  The full contract of every
 * function is its manual page (man 3 <function>); the comments here are short
 * reminders only.
 *
 * Every function that returns int returns 0 on success and -1 with errno set
 * on error, unless its comment says otherwise.
 */
#ifndef __LIBKNET_H__
#define __LIBKNET_H__

#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
#include <unistd.h>
#include <limits.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KNET_API_VER 1

/* ---------------------------------------------------------------- limits */

typedef uint16_t knet_node_id_t;

#define KNET_MAX_HOST 65536          /* node ids are 0..65535 */
#define KNET_MAX_LINK 8              /* links per host */
#define KNET_MAX_PACKET_SIZE 65536   /* largest application datagram */
#define KNET_MAX_HOST_LEN 256        /* buffer size for a host name or address */
#define KNET_MAX_PORT_LEN 6          /* buffer size for a port number string */

/* tx_rx argument of the notification and filter callbacks */
#define KNET_NOTIFY_TX 0
#define KNET_NOTIFY_RX 1

/* knet_link_set_config() flags */
#define KNET_LINK_FLAG_TRAFFICHIPRIO (1ULL << 0)

/* knet_handle_new_ex() flags */
#define KNET_HANDLE_FLAG_PRIVILEGED (1ULL << 0)

/* ---------------------------------------------------------------- handle */

typedef struct knet_handle *knet_handle_t;

/* Create a handle for local node host_id; logs go to log_fd (0: no logging)
 * at default_log_level for every subsystem.  Returns NULL with errno set. */
knet_handle_t knet_handle_new_ex(knet_node_id_t host_id,
				 int            log_fd,
				 uint8_t        default_log_level,
				 uint64_t       flags);

/* knet_handle_new_ex() with KNET_HANDLE_FLAG_PRIVILEGED. */
knet_handle_t knet_handle_new(knet_node_id_t host_id,
			      int      log_fd,
			      uint8_t  default_log_level);

/* Release a handle.  Fails with EBUSY while hosts are still configured. */
int knet_handle_free(knet_handle_t knet_h);

/* Register the callback told about datafd errors (mandatory before
 * knet_handle_add_datafd).  error is -1 for an I/O error (errorno set) or
 * 0 when a zero-length read/write happened. */
int knet_handle_enable_sock_notify(knet_handle_t knet_h,
				   void *sock_notify_fn_private_data,
				   void (*sock_notify_fn) (
						void *private_data,
						int datafd,
						int8_t channel,
						uint8_t tx_rx,
						int error,
						int errorno));

#define KNET_DATAFD_MAX 32

/* Attach a data file descriptor to a channel.  *datafd == 0 asks the
 * library for a socketpair it owns; *channel < 0 picks a free channel. */
int knet_handle_add_datafd(knet_handle_t knet_h, int *datafd, int8_t *channel);

/* Detach a data file descriptor. */
int knet_handle_remove_datafd(knet_handle_t knet_h, int datafd);

/* Map a datafd to its channel and back. */
int knet_handle_get_channel(knet_handle_t knet_h, const int datafd, int8_t *channel);
int knet_handle_get_datafd(knet_handle_t knet_h, const int8_t channel, int *datafd);

/* Read one received datagram of a channel (non-blocking).  Returns its
 * size, or -1 with errno set. */
ssize_t knet_recv(knet_handle_t knet_h,
		  char *buff,
		  const size_t buff_len,
		  const int8_t channel);

/* Queue one datagram for transmission on a channel.  Returns the number
 * of bytes accepted, or -1 with errno set. */
ssize_t knet_send(knet_handle_t knet_h,
		  const char *buff,
		  const size_t buff_len,
		  const int8_t channel);

/* Transmit one datagram synchronously, bypassing the datafd queue; needs
 * a filter callback (knet_handle_enable_filter). */
int knet_send_sync(knet_handle_t knet_h,
		   const char *buff,
		   const size_t buff_len,
		   const int8_t channel);

/* Register the destination filter.  The callback returns -1 to drop the
 * packet, 0 for unicast to dst_host_ids[0..*dst_host_ids_entries-1],
 * 1 for broadcast.  dst_host_ids has room for KNET_MAX_HOST entries and is
 * uninitialized on entry. */
int knet_handle_enable_filter(knet_handle_t knet_h,
			      void *dst_host_filter_fn_private_data,
			      int (*dst_host_filter_fn) (
					void *private_data,
					const unsigned char *outdata,
					ssize_t outdata_len,
					uint8_t tx_rx,
					knet_node_id_t this_host_id,
					knet_node_id_t src_host_id,
					int8_t *channel,
					knet_node_id_t *dst_host_ids,
					size_t *dst_host_ids_entries));

/* Start (1) or stop (0) forwarding traffic between datafds and links. */
int knet_handle_setfwd(knet_handle_t knet_h, unsigned int enabled);

/* Enforce (1) or ignore (0) the per-link access lists. */
int knet_handle_enable_access_lists(knet_handle_t knet_h, unsigned int enabled);

/* ---------------------------------------------------------------- PMTUd */

#define KNET_PMTUD_DEFAULT_INTERVAL 60

/* Seconds between path MTU discoveries (1..86400). */
int knet_handle_pmtud_setfreq(knet_handle_t knet_h, unsigned int interval);
int knet_handle_pmtud_getfreq(knet_handle_t knet_h, unsigned int *interval);

/* Callback told the new data MTU whenever it changes. */
int knet_handle_enable_pmtud_notify(knet_handle_t knet_h,
				    void *pmtud_notify_fn_private_data,
				    void (*pmtud_notify_fn) (
						void *private_data,
						unsigned int data_mtu));

/* Force the interface MTU used by PMTUd (0 restores discovery). */
int knet_handle_pmtud_set(knet_handle_t knet_h,
			  unsigned int iface_mtu);

/* Largest application payload that is sent unfragmented. */
int knet_handle_pmtud_get(knet_handle_t knet_h,
			  unsigned int *data_mtu);

/* ---------------------------------------------------------------- crypto */

#define KNET_MIN_KEY_LEN  128
#define KNET_MAX_KEY_LEN 4096

struct knet_handle_crypto_cfg {
	char		crypto_model[16];
	char		crypto_cipher_type[16];
	char		crypto_hash_type[16];
	unsigned char	private_key[KNET_MAX_KEY_LEN];
	unsigned int	private_key_len;
};

/* Load a crypto configuration into slot config_num (1 or 2). */
int knet_handle_crypto_set_config(knet_handle_t knet_h,
				  struct knet_handle_crypto_cfg *knet_handle_crypto_cfg,
				  uint8_t config_num);

#define KNET_CRYPTO_RX_ALLOW_CLEAR_TRAFFIC 0
#define KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC 1

/* Accept or refuse unencrypted packets on receive. */
int knet_handle_crypto_rx_clear_traffic(knet_handle_t knet_h, uint8_t value);

/* Select the slot used to encrypt outgoing traffic (0: send clear). */
int knet_handle_crypto_use_config(knet_handle_t knet_h,
				  uint8_t config_num);

/* Deprecated single-call form: configure slot 1 and use it. */
int knet_handle_crypto(knet_handle_t knet_h,
		       struct knet_handle_crypto_cfg *knet_handle_crypto_cfg);

/* ---------------------------------------------------------------- compress */

#define KNET_COMPRESS_THRESHOLD 100

struct knet_handle_compress_cfg {
	char	 compress_model[16];
	uint32_t compress_threshold;
	int	 compress_level;
};

/* Configure compression of outgoing data ("none" disables it). */
int knet_handle_compress(knet_handle_t knet_h,
			 struct knet_handle_compress_cfg *knet_handle_compress_cfg);

/* ---------------------------------------------------------------- stats */

struct knet_handle_stats {
	size_t   size;

	uint64_t tx_uncompressed_packets;
	uint64_t tx_compressed_packets;
	uint64_t tx_compressed_original_bytes;
	uint64_t tx_compressed_size_bytes;
	uint64_t tx_compress_time_ave;
	uint64_t tx_compress_time_min;
	uint64_t tx_compress_time_max;

	uint64_t rx_compressed_packets;
	uint64_t rx_compressed_original_bytes;
	uint64_t rx_compressed_size_bytes;
	uint64_t rx_compress_time_ave;
	uint64_t rx_compress_time_min;
	uint64_t rx_compress_time_max;

	uint64_t tx_crypt_packets;
	uint64_t tx_crypt_byte_overhead;
	uint64_t tx_crypt_time_ave;
	uint64_t tx_crypt_time_min;
	uint64_t tx_crypt_time_max;

	uint64_t rx_crypt_packets;
	uint64_t rx_crypt_time_ave;
	uint64_t rx_crypt_time_min;
	uint64_t rx_crypt_time_max;
};

/* Copy up to struct_size bytes of the handle statistics. */
int knet_handle_get_stats(knet_handle_t knet_h, struct knet_handle_stats *stats, size_t struct_size);

#define KNET_CLEARSTATS_HANDLE_ONLY     1
#define KNET_CLEARSTATS_HANDLE_AND_LINK 2

int knet_handle_clear_stats(knet_handle_t knet_h, int clear_option);

/* ---------------------------------------------------------------- lists */

struct knet_crypto_info {
	const char *name;
	uint8_t properties;   /* reserved */
	char pad[256];        /* reserved */
};

/* With crypto_list NULL, only count the entries. */
int knet_get_crypto_list(struct knet_crypto_info *crypto_list,
			 size_t *crypto_list_entries);

struct knet_compress_info {
	const char *name;
	uint8_t properties;   /* reserved */
	char pad[256];        /* reserved */
};

int knet_get_compress_list(struct knet_compress_info *compress_list,
			   size_t *compress_list_entries);

/* ---------------------------------------------------------------- hosts */

int knet_host_add(knet_handle_t knet_h, knet_node_id_t host_id);
int knet_host_remove(knet_handle_t knet_h, knet_node_id_t host_id);

/* name is at most KNET_MAX_HOST_LEN - 1 characters and unique. */
int knet_host_set_name(knet_handle_t knet_h, knet_node_id_t host_id,
		       const char *name);

/* name must have room for KNET_MAX_HOST_LEN bytes. */
int knet_host_get_name_by_host_id(knet_handle_t knet_h, knet_node_id_t host_id,
				  char *name);

int knet_host_get_id_by_host_name(knet_handle_t knet_h, const char *name,
				  knet_node_id_t *host_id);

/* host_ids must have room for KNET_MAX_HOST entries. */
int knet_host_get_host_list(knet_handle_t knet_h,
			    knet_node_id_t *host_ids, size_t *host_ids_entries);

#define KNET_LINK_POLICY_PASSIVE 0
#define KNET_LINK_POLICY_ACTIVE  1
#define KNET_LINK_POLICY_RR      2

int knet_host_set_policy(knet_handle_t knet_h, knet_node_id_t host_id,
			 uint8_t policy);
int knet_host_get_policy(knet_handle_t knet_h, knet_node_id_t host_id,
			 uint8_t *policy);

int knet_host_enable_status_change_notify(knet_handle_t knet_h,
					  void *host_status_change_notify_fn_private_data,
					  void (*host_status_change_notify_fn) (
						void *private_data,
						knet_node_id_t host_id,
						uint8_t reachable,
						uint8_t remote,
						uint8_t external));

struct knet_host_status {
	uint8_t reachable;
	uint8_t remote;
	uint8_t external;
};

int knet_host_get_status(knet_handle_t knet_h, knet_node_id_t host_id,
			 struct knet_host_status *status);

/* ---------------------------------------------------------------- addresses */

/* Resolve a numeric address and port into ss (no DNS lookup). */
int knet_strtoaddr(const char *host, const char *port,
		   struct sockaddr_storage *ss, socklen_t sslen);

/* Print a socket address as numeric address and port strings. */
int knet_addrtostr(const struct sockaddr_storage *ss, socklen_t sslen,
		   char *addr_buf, size_t addr_buf_size,
		   char *port_buf, size_t port_buf_size);

/* ---------------------------------------------------------------- transports */

#define KNET_TRANSPORT_LOOPBACK 0
#define KNET_TRANSPORT_UDP      1
#define KNET_TRANSPORT_SCTP     2
#define KNET_MAX_TRANSPORTS     UINT8_MAX

struct knet_transport_info {
	const char *name;
	uint8_t id;
	uint8_t properties;   /* reserved */
	char pad[256];        /* reserved */
};

int knet_get_transport_list(struct knet_transport_info *transport_list,
			    size_t *transport_list_entries);

/* Return NULL (errno set) for an unknown transport. */
const char *knet_get_transport_name_by_id(uint8_t transport);

/* Return KNET_MAX_TRANSPORTS (errno set) for an unknown name. */
uint8_t knet_get_transport_id_by_name(const char *name);

#define KNET_TRANSPORT_DEFAULT_RECONNECT_INTERVAL 1000

int knet_handle_set_transport_reconnect_interval(knet_handle_t knet_h, uint32_t msecs);
int knet_handle_get_transport_reconnect_interval(knet_handle_t knet_h, uint32_t *msecs);

/* ---------------------------------------------------------------- links */

/* dst_addr NULL makes a dynamic link (peer learned from its traffic). */
int knet_link_set_config(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			 uint8_t transport,
			 struct sockaddr_storage *src_addr,
			 struct sockaddr_storage *dst_addr,
			 uint64_t flags);

int knet_link_get_config(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			 uint8_t *transport,
			 struct sockaddr_storage *src_addr,
			 struct sockaddr_storage *dst_addr,
			 uint8_t *dynamic,
			 uint64_t *flags);

int knet_link_clear_config(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id);

/* access lists */

typedef enum {
	CHECK_TYPE_ADDRESS,
	CHECK_TYPE_MASK,
	CHECK_TYPE_RANGE
} check_type_t;

typedef enum {
	CHECK_ACCEPT,
	CHECK_REJECT
} check_acceptreject_t;

int knet_link_add_acl(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
		      struct sockaddr_storage *ss1,
		      struct sockaddr_storage *ss2,
		      check_type_t type, check_acceptreject_t acceptreject);

int knet_link_insert_acl(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			 int index,
			 struct sockaddr_storage *ss1,
			 struct sockaddr_storage *ss2,
			 check_type_t type, check_acceptreject_t acceptreject);

int knet_link_rm_acl(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
		     struct sockaddr_storage *ss1,
		     struct sockaddr_storage *ss2,
		     check_type_t type, check_acceptreject_t acceptreject);

int knet_link_clear_acl(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id);

int knet_link_set_enable(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			 unsigned int enabled);
int knet_link_get_enable(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			 unsigned int *enabled);

#define KNET_LINK_DEFAULT_PING_INTERVAL  1000 /* milliseconds */
#define KNET_LINK_DEFAULT_PING_TIMEOUT   2000 /* milliseconds */
#define KNET_LINK_DEFAULT_PING_PRECISION 2048 /* latency samples */

int knet_link_set_ping_timers(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			      time_t interval, time_t timeout, unsigned int precision);
int knet_link_get_ping_timers(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			      time_t *interval, time_t *timeout, unsigned int *precision);

#define KNET_LINK_DEFAULT_PONG_COUNT 5

int knet_link_set_pong_count(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			     uint8_t pong_count);
int knet_link_get_pong_count(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			     uint8_t *pong_count);

int knet_link_set_priority(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			   uint8_t priority);
int knet_link_get_priority(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			   uint8_t *priority);

/* link_ids must have room for KNET_MAX_LINK entries. */
int knet_link_get_link_list(knet_handle_t knet_h, knet_node_id_t host_id,
			    uint8_t *link_ids, size_t *link_ids_entries);

#define MAX_LINK_EVENTS 16

struct knet_link_stats {
	/* data, ping, pong and pmtu traffic */
	uint64_t tx_data_packets;
	uint64_t rx_data_packets;
	uint64_t tx_data_bytes;
	uint64_t rx_data_bytes;
	uint64_t rx_ping_packets;
	uint64_t tx_ping_packets;
	uint64_t rx_ping_bytes;
	uint64_t tx_ping_bytes;
	uint64_t rx_pong_packets;
	uint64_t tx_pong_packets;
	uint64_t rx_pong_bytes;
	uint64_t tx_pong_bytes;
	uint64_t rx_pmtu_packets;
	uint64_t tx_pmtu_packets;
	uint64_t rx_pmtu_bytes;
	uint64_t tx_pmtu_bytes;

	/* totals, computed when the stats are read */
	uint64_t tx_total_packets;
	uint64_t rx_total_packets;
	uint64_t tx_total_bytes;
	uint64_t rx_total_bytes;
	uint64_t tx_total_errors;
	uint64_t tx_total_retries;

	uint32_t tx_pmtu_errors;
	uint32_t tx_pmtu_retries;
	uint32_t tx_ping_errors;
	uint32_t tx_ping_retries;
	uint32_t tx_pong_errors;
	uint32_t tx_pong_retries;
	uint32_t tx_data_errors;
	uint32_t tx_data_retries;

	/* latency in microseconds */
	uint32_t latency_min;
	uint32_t latency_max;
	uint32_t latency_ave;
	uint32_t latency_samples;

	/* link state history */
	uint32_t down_count;
	uint32_t up_count;
	time_t   last_up_times[MAX_LINK_EVENTS];
	time_t   last_down_times[MAX_LINK_EVENTS];
	int8_t   last_up_time_index;
	int8_t   last_down_time_index;
	/* fields may only be appended here */
};

struct knet_link_status {
	size_t size;                          /* filled with sizeof(struct knet_link_status) */
	char src_ipaddr[KNET_MAX_HOST_LEN];
	char src_port[KNET_MAX_PORT_LEN];
	char dst_ipaddr[KNET_MAX_HOST_LEN];
	char dst_port[KNET_MAX_PORT_LEN];
	uint8_t enabled;
	uint8_t connected;
	uint8_t dynconnected;
	unsigned long long latency;           /* microseconds */
	struct timespec pong_last;
	unsigned int mtu;                     /* path MTU of the link */
	unsigned int proto_overhead;          /* IP + transport header bytes */
	struct knet_link_stats stats;
	/* fields may only be appended here */
};

/* Copy up to struct_size bytes of a link's status. */
int knet_link_get_status(knet_handle_t knet_h, knet_node_id_t host_id, uint8_t link_id,
			 struct knet_link_status *status, size_t struct_size);

/* ---------------------------------------------------------------- logging */

#define KNET_SUB_COMMON         0
#define KNET_SUB_HANDLE         1
#define KNET_SUB_HOST           2
#define KNET_SUB_LISTENER       3
#define KNET_SUB_LINK           4
#define KNET_SUB_TRANSPORT      5
#define KNET_SUB_CRYPTO         6
#define KNET_SUB_COMPRESS       7

#define KNET_SUB_FILTER        19 /* free for applications' filter callbacks */

#define KNET_SUB_DSTCACHE      20
#define KNET_SUB_HEARTBEAT     21
#define KNET_SUB_PMTUD         22
#define KNET_SUB_TX            23
#define KNET_SUB_RX            24

#define KNET_SUB_TRANSP_BASE   40
#define KNET_SUB_TRANSP_LOOPBACK (KNET_SUB_TRANSP_BASE + KNET_TRANSPORT_LOOPBACK)
#define KNET_SUB_TRANSP_UDP      (KNET_SUB_TRANSP_BASE + KNET_TRANSPORT_UDP)
#define KNET_SUB_TRANSP_SCTP     (KNET_SUB_TRANSP_BASE + KNET_TRANSPORT_SCTP)

#define KNET_SUB_NSSCRYPTO     60
#define KNET_SUB_OPENSSLCRYPTO 61

#define KNET_SUB_ZLIBCOMP      70
#define KNET_SUB_LZ4COMP       71
#define KNET_SUB_LZ4HCCOMP     72
#define KNET_SUB_LZO2COMP      73
#define KNET_SUB_LZMACOMP      74
#define KNET_SUB_BZIP2COMP     75
#define KNET_SUB_ZSTDCOMP      76

#define KNET_SUB_UNKNOWN       UINT8_MAX - 1
#define KNET_MAX_SUBSYSTEMS    UINT8_MAX

/* Unknown ids map to "unknown" / KNET_SUB_UNKNOWN. */
const char *knet_log_get_subsystem_name(uint8_t subsystem);
uint8_t knet_log_get_subsystem_id(const char *name);

#define KNET_LOG_ERR         0
#define KNET_LOG_WARN        1
#define KNET_LOG_INFO        2
#define KNET_LOG_DEBUG       3
#define KNET_LOG_TRACE       4

/* Unknown values map to "ERROR" / KNET_LOG_ERR. */
const char *knet_log_get_loglevel_name(uint8_t level);
uint8_t knet_log_get_loglevel_id(const char *name);

/* One record is written atomically to the log fd (must fit PIPE_BUF). */
#define KNET_MAX_LOG_MSG_SIZE    254
#if KNET_MAX_LOG_MSG_SIZE > PIPE_BUF
#error KNET_MAX_LOG_MSG_SIZE must not exceed PIPE_BUF
#endif

struct knet_log_msg {
	char	msg[KNET_MAX_LOG_MSG_SIZE];
	uint8_t	subsystem;
	uint8_t msglevel;
};

int knet_log_set_loglevel(knet_handle_t knet_h, uint8_t subsystem,
			  uint8_t level);
int knet_log_get_loglevel(knet_handle_t knet_h, uint8_t subsystem,
			  uint8_t *level);

#ifdef __cplusplus
}
#endif

#endif /* __LIBKNET_H__ */
