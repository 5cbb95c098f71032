CREATE TABLE campaigns (id serial primary key, name text not null);
CREATE TABLE messages (id serial primary key, body text not null);
