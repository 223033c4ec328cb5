-- A pgvector user's script (TAP 072): the features of pgvector's README usage
-- section, in statements written for this test, with USING vlake where the
-- README says USING hnsw / ivfflat.  TAP 072 runs it in the vlake cluster,
-- and in the pgvector cluster with the index methods substituted back, and
-- both must run every statement without an error.
-- Getting started
CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3));
INSERT INTO items (embedding) VALUES ('[1,2,3]'), ('[4,5,6]');
SELECT * FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
-- Storing
CREATE TABLE items2 (id bigserial PRIMARY KEY, embedding vector(3), category_id int, created_at timestamptz DEFAULT now());
ALTER TABLE items ADD COLUMN extra vector(3);
ALTER TABLE items DROP COLUMN extra;
INSERT INTO items2 (embedding, category_id) SELECT ARRAY[i % 7, i % 11, i % 13]::real[], i % 10 FROM generate_series(1, 2000) i;
COPY items (embedding) FROM STDIN WITH (FORMAT text);
[7,8,9]
[10,11,12]
\.
INSERT INTO items (id, embedding) VALUES (1, '[1,2,3]'), (2, '[4,5,6]')
    ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding;
UPDATE items SET embedding = '[1,2,3]' WHERE id = 1;
DELETE FROM items WHERE id = 1;
INSERT INTO items (id, embedding) VALUES (1, '[1,2,3]');
-- Querying: every distance operator
SELECT * FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
SELECT * FROM items ORDER BY embedding <#> '[3,1,2]' LIMIT 5;
SELECT * FROM items ORDER BY embedding <=> '[3,1,2]' LIMIT 5;
SELECT * FROM items ORDER BY embedding <+> '[3,1,2]' LIMIT 5;
SELECT * FROM items WHERE id != 1 ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 1) LIMIT 5;
SELECT embedding <-> '[3,1,2]' AS distance FROM items;
SELECT (embedding <#> '[3,1,2]') * -1 AS inner_product FROM items;
SELECT 1 - (embedding <=> '[3,1,2]') AS cosine_similarity FROM items;
SELECT * FROM items WHERE embedding <-> '[3,1,2]' < 5;
SELECT l2_distance(embedding, '[3,1,2]'), inner_product(embedding, '[3,1,2]'), cosine_distance(embedding, '[3,1,2]'), l1_distance(embedding, '[3,1,2]') FROM items;
SELECT vector_dims(embedding), vector_norm(embedding), l2_normalize(embedding), subvector(embedding, 1, 2) FROM items;
SELECT embedding + '[1,1,1]', embedding - '[1,1,1]', embedding * '[2,2,2]', embedding || '[9]' FROM items;
SELECT embedding < '[4,5,6]', embedding <= '[4,5,6]', embedding = '[4,5,6]', embedding <> '[4,5,6]', embedding >= '[4,5,6]', embedding > '[4,5,6]' FROM items;
-- Aggregates
SELECT AVG(embedding) FROM items;
SELECT SUM(embedding) FROM items;
SELECT category_id, AVG(embedding) FROM items2 GROUP BY category_id ORDER BY category_id;
SELECT category_id, SUM(embedding) FROM items2 GROUP BY category_id ORDER BY category_id;
SELECT DISTINCT embedding FROM items ORDER BY embedding;
-- Casts and conversions
SELECT '[1,2,3]'::vector::real[], ARRAY[1,2,3]::vector, ARRAY[1.5,2,3]::real[]::vector, ARRAY[1,2,3]::double precision[]::vector, ARRAY[1,2,3]::numeric[]::vector;
SELECT '[1,2,3]'::vector::halfvec, '[1,2,3]'::halfvec::vector, '[1,0,3]'::vector::sparsevec, '{1:1,3:3}/3'::sparsevec::vector;
SELECT vector_to_halfvec('[1,2,3]'::vector, -1, false), halfvec_to_vector('[1,2,3]'::halfvec, -1, false);
SELECT array_to_vector(ARRAY[1,2,3], 3, false), vector_to_float4('[1,2,3]'::vector, -1, false), array_to_halfvec(ARRAY[1,2,3]::real[], -1, false), halfvec_to_float4('[1,2,3]'::halfvec, -1, false);
SELECT array_to_sparsevec(ARRAY[1,0,3], -1, false), vector_to_sparsevec('[1,0,3]'::vector, -1, false), sparsevec_to_vector('{1:1}/3'::sparsevec, -1, false), halfvec_to_sparsevec('[1,0,3]'::halfvec, -1, false), sparsevec_to_halfvec('{1:1}/3'::sparsevec, -1, false);
SELECT ARRAY[1,0,3]::sparsevec, ARRAY[1,0,3]::real[]::sparsevec;
SELECT vector('[1,2,3]'::vector, 3, true), halfvec('[1,2,3]'::halfvec, 3, true), sparsevec('{1:1}/3'::sparsevec, 3, true);
SELECT '[1,2,3]'::vector(3), '[1,2,3]'::halfvec(3), '{1:1}/3'::sparsevec(3);
-- Indexing: HNSW recipes, with USING vlake
CREATE INDEX ON items USING vlake (embedding vector_l2_ops);
CREATE INDEX ON items USING vlake (embedding vector_ip_ops);
CREATE INDEX ON items USING vlake (embedding vector_cosine_ops);
CREATE INDEX ON items USING vlake (embedding vector_l1_ops);
SELECT * FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
SELECT * FROM items ORDER BY embedding <#> '[3,1,2]' LIMIT 5;
SELECT * FROM items ORDER BY embedding <=> '[3,1,2]' LIMIT 5;
SELECT * FROM items ORDER BY embedding <+> '[3,1,2]' LIMIT 5;
CREATE INDEX items2_l2 ON items2 USING vlake (embedding vector_l2_ops);
CREATE INDEX items2_l1 ON items2 USING vlake (embedding vector_l1_ops);
CREATE INDEX items2_cos ON items2 USING vlake (embedding vector_cosine_ops);
SELECT id FROM items2 ORDER BY embedding <-> '[3,1,2]' LIMIT 10;
SELECT id FROM items2 ORDER BY embedding <+> '[3,1,2]' LIMIT 10;
SELECT id FROM items2 ORDER BY embedding <=> '[3,1,2]' LIMIT 10;
INSERT INTO items2 (embedding, category_id) SELECT ARRAY[i % 5, i % 3, i % 2]::real[], i % 10 FROM generate_series(1, 200) i;
SELECT id FROM items2 ORDER BY embedding <-> '[3,1,2]' LIMIT 10;
DELETE FROM items2 WHERE id % 10 = 0;
VACUUM items2;
SELECT id FROM items2 ORDER BY embedding <+> '[3,1,2]' LIMIT 10;
DROP INDEX items2_l1;
DROP INDEX items2_cos;
-- Indexing: IVFFlat recipes, with USING vlake (lists is an option of both)
CREATE INDEX items2_ivf ON items2 USING vlake (embedding vector_l2_ops) WITH (lists = 20);
SELECT id FROM items2 ORDER BY embedding <-> '[1,1,1]' LIMIT 10;
DROP INDEX items2_ivf;
-- Indexing without an operator class (the default class)
CREATE INDEX items2_default ON items2 USING vlake (embedding);
SELECT id FROM items2 ORDER BY embedding <-> '[1,1,1]' LIMIT 10;
DROP INDEX items2_default;
-- Filtering
CREATE INDEX ON items2 (category_id);
SELECT id FROM items2 WHERE category_id = 3 ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
SELECT id FROM items2 WHERE category_id IN (1, 2, 3) ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
CREATE INDEX items2_partial ON items2 USING vlake (embedding vector_l2_ops) WHERE (category_id = 4);
SELECT id FROM items2 WHERE category_id = 4 ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
DROP INDEX items2_partial;
CREATE TABLE items3 (id bigserial, embedding vector(3), category_id int) PARTITION BY LIST (category_id);
CREATE TABLE items3_a PARTITION OF items3 FOR VALUES IN (1);
CREATE TABLE items3_b PARTITION OF items3 FOR VALUES IN (2);
INSERT INTO items3 (embedding, category_id) SELECT ARRAY[i, i % 4, 1]::real[], 1 + i % 2 FROM generate_series(1, 100) i;
CREATE INDEX ON items3 USING vlake (embedding vector_l2_ops);
SELECT id FROM items3 WHERE category_id = 2 ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
SELECT * FROM (SELECT * FROM items2 ORDER BY embedding <=> '[3,1,2]' LIMIT 20) t WHERE category_id = 5;
-- Half-precision vectors
CREATE TABLE hitems (id bigserial PRIMARY KEY, embedding halfvec(3));
INSERT INTO hitems (embedding) SELECT ARRAY[i % 7, i % 11, i % 13]::real[]::halfvec FROM generate_series(1, 500) i;
CREATE INDEX ON hitems USING vlake (embedding halfvec_l2_ops);
CREATE INDEX ON hitems USING vlake (embedding halfvec_ip_ops);
CREATE INDEX ON hitems USING vlake (embedding halfvec_cosine_ops);
CREATE INDEX ON hitems USING vlake (embedding halfvec_l1_ops);
SELECT id FROM hitems ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
SELECT id FROM hitems ORDER BY embedding <#> '[3,1,2]' LIMIT 5;
SELECT id FROM hitems ORDER BY embedding <=> '[3,1,2]' LIMIT 5;
SELECT id FROM hitems ORDER BY embedding <+> '[3,1,2]' LIMIT 5;
SELECT l2_norm(embedding), l2_normalize(embedding), subvector(embedding, 2, 2), vector_dims(embedding), binary_quantize(embedding) FROM hitems LIMIT 3;
SELECT AVG(embedding), SUM(embedding) FROM hitems;
-- Half-precision indexing of a full-precision column (expression index)
CREATE INDEX items2_half ON items2 USING vlake ((embedding::halfvec(3)) halfvec_l2_ops);
SELECT id FROM items2 ORDER BY embedding::halfvec(3) <-> '[1,2,3]' LIMIT 5;
DROP INDEX items2_half;
-- Binary vectors
CREATE TABLE bitems (id bigserial PRIMARY KEY, embedding bit(3));
INSERT INTO bitems (embedding) VALUES ('000'), ('111'), ('101'), ('011');
SELECT * FROM bitems ORDER BY embedding <~> '101' LIMIT 5;
SELECT * FROM bitems ORDER BY embedding <%> '101' LIMIT 5;
SELECT hamming_distance(embedding, '101'), jaccard_distance(embedding, '101') FROM bitems;
CREATE INDEX ON bitems USING vlake (embedding bit_hamming_ops);
CREATE INDEX ON bitems USING vlake (embedding bit_jaccard_ops);
SELECT * FROM bitems ORDER BY embedding <~> '101' LIMIT 5;
SELECT * FROM bitems ORDER BY embedding <%> '101' LIMIT 5;
-- Binary quantization, and re-ranking by the original vectors
CREATE TABLE qitems (id bigserial PRIMARY KEY, embedding vector(8));
INSERT INTO qitems (embedding) SELECT ARRAY[sin(i), cos(i), sin(2 * i), cos(2 * i), sin(3 * i), cos(3 * i), sin(5 * i), cos(5 * i)]::real[] FROM generate_series(1, 1000) i;
CREATE INDEX ON qitems USING vlake ((binary_quantize(embedding)::bit(8)) bit_hamming_ops);
SELECT id FROM qitems ORDER BY binary_quantize(embedding)::bit(8) <~> binary_quantize('[1,-1,1,-1,1,-1,1,-1]'::vector) LIMIT 5;
SELECT * FROM (SELECT * FROM qitems ORDER BY binary_quantize(embedding)::bit(8) <~> binary_quantize('[1,-1,1,-1,1,-1,1,-1]'::vector) LIMIT 20) t ORDER BY embedding <=> '[1,-1,1,-1,1,-1,1,-1]' LIMIT 5;
CREATE INDEX qitems_jac ON qitems USING vlake ((binary_quantize(embedding)::bit(8)) bit_jaccard_ops);
SELECT id FROM qitems ORDER BY binary_quantize(embedding)::bit(8) <%> binary_quantize('[1,-1,1,-1,1,-1,1,-1]'::vector) LIMIT 5;
DROP INDEX qitems_jac;
-- Subvectors
CREATE INDEX ON qitems USING vlake ((subvector(embedding, 1, 3)::vector(3)) vector_cosine_ops);
SELECT id FROM qitems ORDER BY subvector(embedding, 1, 3)::vector(3) <=> subvector('[1,2,3,4,5,6,7,8]'::vector, 1, 3) LIMIT 5;
SELECT * FROM (SELECT * FROM qitems ORDER BY subvector(embedding, 1, 3)::vector(3) <=> subvector('[1,2,3,4,5,6,7,8]'::vector, 1, 3) LIMIT 20) t ORDER BY embedding <=> '[1,2,3,4,5,6,7,8]' LIMIT 5;
-- Sparse vectors
CREATE TABLE sitems (id bigserial PRIMARY KEY, embedding sparsevec(5));
INSERT INTO sitems (embedding) VALUES ('{1:1,3:2,5:3}/5'), ('{1:4,3:5,5:6}/5'), ('{2:1}/5');
SELECT * FROM sitems ORDER BY embedding <-> '{1:3,3:1,5:2}/5' LIMIT 5;
SELECT * FROM sitems ORDER BY embedding <#> '{1:3,3:1,5:2}/5' LIMIT 5;
SELECT * FROM sitems ORDER BY embedding <=> '{1:3,3:1,5:2}/5' LIMIT 5;
SELECT * FROM sitems ORDER BY embedding <+> '{1:3,3:1,5:2}/5' LIMIT 5;
SELECT l2_distance(embedding, '{1:1}/5'), inner_product(embedding, '{1:1}/5'), cosine_distance(embedding, '{1:1}/5'), l1_distance(embedding, '{1:1}/5'), l2_norm(embedding), l2_normalize(embedding) FROM sitems;
SELECT embedding < '{1:1}/5', embedding = '{1:1}/5' FROM sitems ORDER BY embedding;
CREATE INDEX ON sitems USING vlake_sparse (embedding sparsevec_ip_ops);
SELECT * FROM sitems ORDER BY embedding <#> '{1:3,3:1,5:2}/5' LIMIT 5;
-- Hybrid search with full-text search (Postgres full text)
CREATE TABLE docs (id bigserial PRIMARY KEY, content text, embedding vector(3));
INSERT INTO docs (content, embedding) VALUES ('the quick brown fox', '[1,2,3]'), ('jumps over the lazy dog', '[4,5,6]'), ('a quick dog', '[1,1,1]');
CREATE INDEX ON docs USING GIN (to_tsvector('english', content));
SELECT id, content FROM docs, plainto_tsquery('english', 'quick') query WHERE to_tsvector('english', content) @@ query ORDER BY ts_rank_cd(to_tsvector('english', content), query) DESC LIMIT 5;
CREATE INDEX ON docs USING vlake (embedding vector_l2_ops);
WITH semantic AS (SELECT id, RANK () OVER (ORDER BY embedding <=> '[1,2,3]') AS rank FROM docs ORDER BY embedding <=> '[1,2,3]' LIMIT 20),
     keyword AS (SELECT id, RANK () OVER (ORDER BY ts_rank_cd(to_tsvector('english', content), query) DESC) FROM docs, plainto_tsquery('english', 'quick') query WHERE to_tsvector('english', content) @@ query LIMIT 20)
SELECT COALESCE(semantic.id, keyword.id) AS id, COALESCE(1.0 / (60 + semantic.rank), 0.0) + COALESCE(1.0 / (60 + keyword.rank), 0.0) AS score
FROM semantic FULL OUTER JOIN keyword ON semantic.id = keyword.id ORDER BY score DESC LIMIT 5;
-- Indexing progress, monitoring, and plans
SELECT phase FROM pg_stat_progress_create_index;
EXPLAIN SELECT id FROM items2 ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
EXPLAIN ANALYZE SELECT id FROM items2 ORDER BY embedding <-> '[3,1,2]' LIMIT 5;
SELECT pg_size_pretty(pg_relation_size('items2_l2'));
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'items2'::regclass ORDER BY 1;
-- Maintenance
REINDEX INDEX items2_l2;
REINDEX TABLE items2;
VACUUM ANALYZE items2;
ANALYZE items;
-- Joins, ordering and other SQL around vectors
SELECT a.id, b.id, a.embedding <-> b.embedding FROM items a CROSS JOIN items b WHERE a.id < b.id ORDER BY 3 LIMIT 5;
SELECT a.id, (SELECT b.id FROM items2 b ORDER BY b.embedding <-> a.embedding LIMIT 1) FROM items a;
SELECT id, embedding FROM items ORDER BY embedding, id;
SELECT count(*) FROM items2 a JOIN items2 b ON a.embedding = b.embedding WHERE a.id < 100;
CREATE TABLE items_copy AS SELECT * FROM items;
SELECT * FROM items_copy EXCEPT SELECT * FROM items;
CREATE UNIQUE INDEX ON items_copy (embedding);
SELECT embedding::text, embedding::real[] FROM items ORDER BY id;
-- Prepared statements with vector parameters
PREPARE nn(vector) AS SELECT id FROM items2 ORDER BY embedding <-> $1 LIMIT 5;
EXECUTE nn('[1,2,3]');
EXECUTE nn('[3,2,1]');
DEALLOCATE nn;
PREPARE nnb(bit) AS SELECT id FROM bitems ORDER BY embedding <~> $1 LIMIT 2;
EXECUTE nnb('110');
DEALLOCATE nnb;
-- Type modifiers and dimensions
CREATE TABLE dims (v vector, h halfvec, s sparsevec, b bit varying);
INSERT INTO dims VALUES ('[1]', '[1,2]', '{1:1}/10', '1'), ('[1,2,3,4,5]', '[1]', '{}/3', '0101');
SELECT vector_dims(v), vector_dims(h), v::text, h::text, s::text, b::text FROM dims;
ALTER TABLE items2 ALTER COLUMN embedding SET STORAGE PLAIN;
ALTER TABLE hitems ADD COLUMN full_embedding vector(3);
UPDATE hitems SET full_embedding = embedding;
SELECT id FROM hitems ORDER BY full_embedding <-> '[3,1,2]' LIMIT 5;
-- Clean up
DROP TABLE items3;
DROP TABLE dims;
DROP TABLE items_copy;
DROP TABLE docs;
DROP TABLE sitems;
DROP TABLE qitems;
DROP TABLE bitems;
DROP TABLE hitems;
DROP TABLE items2;
DROP TABLE items;
