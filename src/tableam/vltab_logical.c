/*
 * vltab_logical.c — vlake tables and logical replication: refused.
 *
 * Logical decoding reads heap WAL.  Of a vlake table it would see the
 * delta's inserts, but a flush deletes the rows it moves from the delta
 * (decoded as DELETEs: a subscriber would lose the rows), and rows COPY
 * writes to segments and changes of lake rows (vlake.row_states) are not in
 * the table's WAL at all.  So a vlake table must not be published: naming
 * one in CREATE / ALTER PUBLICATION is refused, and for publications that
 * take it implicitly (FOR ALL TABLES, TABLES IN SCHEMA) every write that
 * the decoding would get wrong — a flush, a COPY into segments, a change of
 * a lake row — fails instead, naming the publication.  Physical standbys
 * and the published manifests (manifest.md) replicate vlake tables.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_publication.h"
#include "nodes/parsenodes.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "tableam/vltab.h"

/* errdetail and errhint of both refusals */
static int
logical_why(void)
{
	errdetail("Logical decoding sees only the delta of a vlake table: flushes would be "
			  "published as deletions, rows in lake segments not at all.");
	return errhint("Take the table out of the publication (a FOR ALL TABLES publication "
				   "cannot leave it out; list the other tables instead). Physical standbys "
				   "and the published manifests replicate vlake tables.");
}

/* The name of a publication rel is in, or NULL. */
static char *
publication_of(Relation rel)
{
	List	   *pubs = GetRelationPublications(RelationGetRelid(rel));

	pubs = list_concat(pubs, GetSchemaPublications(RelationGetNamespace(rel)));
	pubs = list_concat(pubs, GetAllTablesPublications());
	return pubs == NIL ? NULL : get_publication_name(linitial_oid(pubs), false);
}

void
vltab_refuse_published(Relation rel, const char *action)
{
	PublicationDesc pd;

	/* the relcache keeps this: cheap enough for every lake row change */
	RelationBuildPublicationDesc(rel, &pd);
	if (pd.pubactions.pubinsert || pd.pubactions.pubupdate ||
		pd.pubactions.pubdelete || pd.pubactions.pubtruncate)
	{
		char	   *name = publication_of(rel);

		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s vlake table \"%s\": it is in publication \"%s\"",
						action, RelationGetRelationName(rel), name ? name : "?"),
				 logical_why()));
	}
}

/* CREATE / ALTER PUBLICATION naming a vlake table: refused before it runs. */
void
vltab_check_publication_stmt(Node *stmt, const char *pubname)
{
	List	   *objects = NIL;
	ListCell   *lc;

	if (IsA(stmt, CreatePublicationStmt))
		objects = ((CreatePublicationStmt *) stmt)->pubobjects;
	else if (IsA(stmt, AlterPublicationStmt) &&
			 ((AlterPublicationStmt *) stmt)->action != AP_DropObjects)
		objects = ((AlterPublicationStmt *) stmt)->pubobjects;
	foreach(lc, objects)
	{
		PublicationObjSpec *o = lfirst(lc);
		Oid			relid;
		Relation	rel;

		if (o->pubobjtype != PUBLICATIONOBJ_TABLE || o->pubtable == NULL)
			continue;
		relid = RangeVarGetRelid(o->pubtable->relation, NoLock, true);
		if (!OidIsValid(relid))
			continue;			/* the command reports it */
		rel = try_relation_open(relid, AccessShareLock);
		if (rel == NULL)
			continue;
		if (vltab_is_vlake(rel))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("vlake table \"%s\" cannot be added to publication \"%s\"",
							RelationGetRelationName(rel), pubname),
					 logical_why()));
		relation_close(rel, AccessShareLock);
	}
}
