/* cn_msg.c: chain-node's view of every protocol a datagram can carry (chain
 * data, control plane, and the control plane's Raft): the type names trace
 * events use, and a check that a body decodes before the node acts on it,
 * so malformed datagrams are counted and traced as such (the cores would
 * drop them silently). */
#define _GNU_SOURCE
#include "cn.h"

#include "chain_msg.h"
#include "ctrl_sm.h"

const char *cn_msg_type_name(uint8_t type)
{
    switch (type) {
    case CHAIN_MSG_UPDATE: return "update";
    case CHAIN_MSG_ACK: return "ack";
    case CHAIN_MSG_VQUERY: return "vquery";
    case CHAIN_MSG_VREPLY: return "vreply";
    case CHAIN_MSG_SNAP_REQ: return "snap_req";
    case CHAIN_MSG_SNAP: return "snap";
    case CTRL_MSG_HEARTBEAT: return "heartbeat";
    case CTRL_MSG_HB_ACK: return "hb_ack";
    case CTRL_MSG_CONFIG: return "config";
    default: return raft_msg_type_name(type); /* the control plane's Raft, or "unknown" */
    }
}

int cn_msg_check(uint8_t type, uint16_t src, uint16_t dst, const uint8_t *body, size_t len)
{
    switch (type) {
    case CHAIN_MSG_UPDATE: case CHAIN_MSG_ACK: case CHAIN_MSG_VQUERY:
    case CHAIN_MSG_VREPLY: case CHAIN_MSG_SNAP_REQ: case CHAIN_MSG_SNAP: {
        chain_msg m;
        return chain_msg_decode(type, body, len, &m);
    }
    case CTRL_MSG_HEARTBEAT: {
        ctrl_heartbeat h;
        return ctrl_heartbeat_decode(&h, body, len) == 0 ? 0 : -1;
    }
    case CTRL_MSG_HB_ACK: {
        uint64_t epoch, sent;
        return ctrl_hb_ack_decode(body, len, &epoch, &sent) == 0 ? 0 : -1;
    }
    case CTRL_MSG_CONFIG: {
        ctrl_state s;
        return ctrl_state_decode(&s, body, len) == 0 ? 0 : -1;
    }
    default: {
        raft_msg m;
        int rc = raft_msg_decode(type, src, dst, body, len, &m);
        raft_msg_free(&m);
        return rc == RAFT_OK ? 0 : -1;
    }
    }
}
