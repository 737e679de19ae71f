-- The MD5 digests an upload's bytes were signed (or, without JavaScript, streamed) with, so that the
-- check before attaching knows the ETag the object must have: content_md5 is the whole object's (a
-- single PUT, or what the server streamed), part_md5s each part's by part number ({"1": "9e10…"}),
-- merged in as parts are signed. Lowercase hex. Uploads signed without digests (pages loaded before
-- this version) have neither and are checked as before.
alter table uploads
  add column content_md5 text check (content_md5 ~ '^[0-9a-f]{32}$'),
  add column part_md5s jsonb check (jsonb_typeof(part_md5s) = 'object');
