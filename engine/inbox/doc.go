// Package inbox is the agents' side of a handoff: queues, agents with a
// status and a capacity, the assignment of handed-off conversations,
// canned responses, queue business hours, and a hub of live events for
// the web inbox (server-sent events).
//
// The engine owns the conversation: a handoff node puts it in status
// agent with a queue, a priority and a note; engine.Assign, Transfer,
// AgentSend, AgentSendTemplate, AddNote and ResolveConversation change it,
// each one commit under the contact's lock. The inbox decides who gets
// what and keeps a view of it in memory, fed by the engine's commit
// observer (engine.Observer) and rebuilt from the store at Start.
//
// Assignment. A waiting conversation goes to an online agent of its queue
// with the fewest open conversations below their capacity; ties go to the
// agent assigned longest ago (round robin). Waiting conversations are
// served highest priority first, then oldest handoff first, across all
// queues. One pass at a time decides (Rebalance holds the assignment lock
// while it reserves places in memory), so concurrent handoffs can never
// put an agent over capacity; the reservations then commit in parallel
// (sharing the store's group commit), and one that fails (the
// conversation was resolved meanwhile) is given back. A pass runs after
// every handoff, release, status or profile change. Capacity binds the
// automatic assignment; a person's explicit claim or transfer may go
// beyond it (they chose to).
//
// Decisions:
//   - An agent going offline returns their open conversations to their
//     queues, unassigned, keeping their handoff time (so they are served
//     first by age) and priority; other online agents take them. An agent
//     who is away keeps what they hold but gets nothing new. Removing an
//     agent's profile is going offline for good.
//   - The handoff's no_agent_after fires on_no_agent only if no agent
//     holds the conversation when it comes due (engine/assign.go); an
//     agent's reply or template cancels it.
//   - Business hours govern the automatic reply, not the assignment: an
//     agent online at night still gets conversations. When a conversation
//     is still waiting after its handoff's pass and its queue is closed,
//     the customer gets the queue's closed reply once, saying when the
//     queue opens — only inside the 24-hour window (a free-form message;
//     nobody gets a template they did not ask for). A restart between a
//     handoff and its reply skips the reply.
//   - Unread counts are the customer's messages since the handoff, an
//     agent's last message or an agent opening the conversation, whichever
//     is latest. Openings are recorded (bucket "inbox_read"), so a restart
//     counts the same from the transcripts.
//   - A queue named by a flow but never created in the inbox still
//     exists: it has no hours and no agents until an admin adds them, and
//     its conversations wait.
//   - Numbers. Parley may serve several business numbers, and a
//     conversation runs on one (its contact's phone number id). A queue
//     serves the numbers it lists (Queue.Numbers; none, as in records
//     from before numbers existed: every number). Its agents get, see and
//     may claim only the conversations on those numbers, plus any
//     assigned to them. A handoff to a queue from a conversation on a
//     number it does not serve still enters that queue — the flow named
//     it, and the conversation's state is the engine's, not rewritten
//     behind the analyst's back — but is flagged (Item.OffNumber,
//     QueueView.OffNumber, an INFO log line): no agent of the queue gets
//     or sees it; admins see it and transfer it to a queue of its number,
//     or give it to an agent by hand. Meanwhile the handoff's
//     no_agent_after still fires, and the queue's closed reply still
//     goes out. A transfer to another queue must land on one that serves
//     the conversation's number (refused otherwise, admins included).
//     Changing a queue's numbers places its waiting conversations again;
//     conversations already held stay with their agents. CheckHandoffs
//     warns, at save and publish, of a handoff to a queue that leaves out
//     numbers the flow answers on.
//
// Several processes. On a store several Parley processes share
// (PostgreSQL), each process's inbox keeps its own view, and a Feed
// (pgstore.Feed) ties the views together:
//   - Other processes' changes. Every commit that writes a conversation
//     that is or was handed off, or a message of one, and every write of
//     the records, sends a Note (ids only) in its own transaction; the
//     other inboxes read the conversation, its contact and the named
//     messages again from the store and apply them as the observer does
//     this process's commits, so every process's live streams get every
//     event (a few milliseconds later than the committing process's). A
//     read that a commit of this process overtook is read again; records
//     are read again whole (they are few). A pause of sending, which no
//     commit carries, is sent as a note too.
//   - A dropped connection. Notes sent while the feed was away are lost:
//     when it connects again the inbox reads its whole view again (only
//     the conversations in status agent, small) and tells its live
//     streams to reload (EventReset). Synced reports whether it is
//     connected.
//   - Assignment: one leader. Only the process that holds the cluster's
//     lead (a PostgreSQL session advisory lock on the feed's connection)
//     makes assignment passes and closed-hours replies; Rebalance does
//     nothing elsewhere. Every handoff, release and agent change reaches
//     the leader as a note, which kicks its pass as its own commits do, so
//     no Kick needs forwarding. Its decisions are the one-process
//     decisions above, on a view that holds its own reservations at once,
//     so capacity binds and round robin is fair across the cluster as in
//     one process. When the leader stops it gives the lock up and says so,
//     and another process takes it at once; when it dies, PostgreSQL drops
//     its connection and lock, and another takes it within
//     pgstore.FeedCheck (2 s); so too when its store is closed under it.
//     A new leader counts every conversation it knows as replied to (as a
//     restart does) and orders round robin by the agents' latest
//     assignments.
//   - Why a leader, not a check in each assignment's commit: the check
//     would need the agent's count and status in the database, under a
//     lock per agent, in every commit that assigns, and every process
//     would race for the same waiting conversations; a leader decides as
//     one process does, with the counts it keeps, and costs one
//     connection per process and a query every pgstore.FeedCheck.
//   - What still races, and how it ends. An explicit claim, a transfer or
//     a return to the queue made in another process reaches the leader a
//     few milliseconds late; engine.Assign makes the automatic assignment
//     and a claim take only a conversation nobody holds (ErrAssigned), so
//     a decision on a view overtaken never takes a conversation from its
//     holder: the loser is given back. An agent who goes offline in
//     another process while the leader gives them one more gets it back
//     from the leader, which returns what an agent who went offline holds
//     once its passes in flight are done. The one window left: a leader
//     cut from the database while its process lives (not a crash, which
//     ends its commits too) may still have one pass's commits on the way
//     when another process takes the lead, and the two passes together
//     may give an agent one over capacity; the new leader learns of it
//     through the feed and gives that agent nothing more until they are
//     below capacity.
//
// Records (agents, queues, canned responses, read marks) are kept through
// the Records interface: in the engine's bbolt file (buckets
// "inbox_agents", "inbox_queues", "inbox_canned", "inbox_read") or in
// PostgreSQL, whichever store Parley runs on.
package inbox
