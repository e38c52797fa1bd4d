#!/usr/bin/env perl
# Writes the small MaxMind DB files the geo and resolver tests read, in City and ASN shape.
# The data is made up for tests: real-looking public networks with chosen answers, so that a
# test can name the place an address must resolve to. The outputs are kept in the repository;
# run this by hand only when the fixtures must change, then commit the .mmdb files:
#
#   apt-get install -y libmaxmind-db-writer-perl mmdb-bin
#   perl scripts/mmdb-fixtures/make-fixtures.pl            # writes test/fixtures/mmdb/*.mmdb
#   mmdblookup -f test/fixtures/mmdb/geo-test-city.mmdb -i 77.88.8.8     # check a record
#
# geo-test-city.mmdb      the City database the tests open
# geo-test-city-v2.mmdb   the same, except that 77.88.8.0/24 answers Kazan instead of Moscow
#                         (the reload test swaps it in)
# geo-test-asn.mmdb       an ASN database for a few of the same networks

use strict;
use warnings;
use utf8;

use Cwd qw( abs_path );
use File::Basename qw( dirname );
use File::Spec;
use MaxMind::DB::Writer::Tree;

my $out_dir = abs_path( File::Spec->catdir( dirname(__FILE__), '..', '..', 'test', 'fixtures', 'mmdb' ) );

my %city_types = (
    accuracy_radius     => 'uint16',
    city                => 'map',
    code                => 'utf8_string',
    continent           => 'map',
    country             => 'map',
    en                  => 'utf8_string',
    geoname_id          => 'uint32',
    iso_code            => 'utf8_string',
    latitude            => 'double',
    location            => 'map',
    longitude           => 'double',
    names               => 'map',
    registered_country  => 'map',
    ru                  => 'utf8_string',
    subdivisions        => [ 'array', 'map' ],
    time_zone           => 'utf8_string',
);

my %asn_types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

my %continents = (
    EU => [ 6255148, 'Europe' ],
    AS => [ 6255147, 'Asia' ],
    NA => [ 6255149, 'North America' ],
    SA => [ 6255150, 'South America' ],
);

my %countries = (
    BR => [ 3469034, 'Brazil',         'SA' ],
    CA => [ 6251999, 'Canada',         'NA' ],
    DE => [ 2921044, 'Germany',        'EU' ],
    GB => [ 2635167, 'United Kingdom', 'EU' ],
    IN => [ 1269750, 'India',          'AS' ],
    JP => [ 1861060, 'Japan',          'AS' ],
    KZ => [ 1522867, 'Kazakhstan',     'AS' ],
    NL => [ 2750405, 'Netherlands',    'EU' ],
    RU => [ 2017370, 'Russia',         'EU' ],
    US => [ 6252001, 'United States',  'NA' ],
);

sub country_record {
    my ($cc) = @_;
    my ( $geoname_id, $name ) = @{ $countries{$cc} };
    return { geoname_id => $geoname_id, iso_code => $cc, names => { en => $name } };
}

sub continent_record {
    my ($cc) = @_;
    my $code = $countries{$cc}[2];
    my ( $geoname_id, $name ) = @{ $continents{$code} };
    return { code => $code, geoname_id => $geoname_id, names => { en => $name } };
}

# A city-level record: country, first-level subdivision, city and the city's coordinates.
sub city {
    my (%a) = @_;
    return {
        continent          => continent_record( $a{country} ),
        country            => country_record( $a{country} ),
        registered_country => country_record( $a{country} ),
        subdivisions       => [ {
            geoname_id => $a{subdivision_id},
            iso_code   => $a{subdivision},
            names      => { en => $a{subdivision_name} },
        } ],
        city => {
            geoname_id => $a{city_id},
            names      => { en => $a{city}, ( $a{city_ru} ? ( ru => $a{city_ru} ) : () ) },
        },
        location => {
            accuracy_radius => 20,
            latitude        => $a{lat},
            longitude       => $a{lon},
            time_zone       => $a{time_zone},
        },
    };
}

# A country-only record, as MaxMind gives when it knows no more: the country's centre as the
# location, a wide accuracy radius, no city and no subdivision.
sub country_only {
    my ( $cc, $lat, $lon ) = @_;
    return {
        continent          => continent_record($cc),
        country            => country_record($cc),
        registered_country => country_record($cc),
        location           => { accuracy_radius => 1000, latitude => $lat, longitude => $lon },
    };
}

my @city_networks = (
    [ '77.88.8.0/24', city(
        country => 'RU', subdivision => 'MOW', subdivision_id => 524894, subdivision_name => 'Moscow',
        city => 'Moscow', city_ru => 'Москва', city_id => 524901, lat => 55.7522, lon => 37.6156,
        time_zone => 'Europe/Moscow' ) ],
    [ '95.161.0.0/16', city(
        country => 'RU', subdivision => 'SPE', subdivision_id => 536203, subdivision_name => 'St.-Petersburg',
        city => 'Saint Petersburg', city_id => 498817, lat => 59.8944, lon => 30.2642,
        time_zone => 'Europe/Moscow' ) ],
    [ '81.2.69.0/24', city(
        country => 'GB', subdivision => 'ENG', subdivision_id => 6269131, subdivision_name => 'England',
        city => 'London', city_id => 2643743, lat => 51.5142, lon => -0.0931,
        time_zone => 'Europe/London' ) ],
    [ '2a01:4f8::/32', city(
        country => 'DE', subdivision => 'BE', subdivision_id => 2950157, subdivision_name => 'Land Berlin',
        city => 'Berlin', city_id => 2950159, lat => 52.5244, lon => 13.4105,
        time_zone => 'Europe/Berlin' ) ],
    [ '200.147.0.0/16', city(
        country => 'BR', subdivision => 'SP', subdivision_id => 3448433, subdivision_name => 'São Paulo',
        city => 'São Paulo', city_id => 3448439, lat => -23.5475, lon => -46.6361,
        time_zone => 'America/Sao_Paulo' ) ],
    [ '1.0.16.0/20', city(
        country => 'JP', subdivision => '13', subdivision_id => 1850144, subdivision_name => 'Tokyo',
        city => 'Tokyo', city_id => 1850147, lat => 35.6895, lon => 139.6917,
        time_zone => 'Asia/Tokyo' ) ],
    [ '12.0.0.0/8', city(
        country => 'US', subdivision => 'NY', subdivision_id => 5128638, subdivision_name => 'New York',
        city => 'New York', city_id => 5128581, lat => 40.7128, lon => -74.006,
        time_zone => 'America/New_York' ) ],
    [ '24.48.0.0/16', city(
        country => 'CA', subdivision => 'QC', subdivision_id => 6115047, subdivision_name => 'Quebec',
        city => 'Montreal', city_id => 6077243, lat => 45.5017, lon => -73.5673,
        time_zone => 'America/Toronto' ) ],
    [ '2.72.0.0/13',   country_only( 'KZ', 48.0196, 66.9237 ) ],
    [ '14.139.0.0/16', country_only( 'IN', 21.0, 78.0 ) ],
    # Only the registered country is known, and no location at all.
    [ '5.45.0.0/16', {
        continent          => continent_record('NL'),
        registered_country => country_record('NL'),
    } ],
);

my %v2_changes = (
    '77.88.8.0/24' => city(
        country => 'RU', subdivision => 'TA', subdivision_id => 484048, subdivision_name => 'Tatarstan',
        city => 'Kazan', city_id => 551487, lat => 55.7887, lon => 49.1221,
        time_zone => 'Europe/Moscow' ),
);

sub write_db {
    my ( $file, $type, $types, $networks ) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version            => 6,
        record_size           => 28,
        database_type         => $type,
        languages             => ['en'],
        description           => { en => "geogate test fixture ($type)" },
        map_key_type_callback => sub { $types->{ $_[0] } },
        alias_ipv6_to_ipv4    => 1,
    );
    # A fixed build time (2025-01-01), so that rerunning the script without changes rewrites
    # the same bytes. _set_build_epoch is the writer's own hook for reproducible output.
    $tree->_set_build_epoch(1_735_689_600);
    $tree->insert_network( $_->[0], $_->[1] ) for @{$networks};
    my $path = File::Spec->catfile( $out_dir, $file );
    open my $fh, '>:raw', $path or die "cannot write $path: $!";
    $tree->write_tree($fh);
    close $fh or die "cannot close $path: $!";
    print "wrote $path\n";
}

write_db( 'geo-test-city.mmdb', 'GeoIP2-City', \%city_types, \@city_networks );
write_db(
    'geo-test-city-v2.mmdb', 'GeoIP2-City', \%city_types,
    [ map { [ $_->[0], $v2_changes{ $_->[0] } // $_->[1] ] } @city_networks ],
);
write_db( 'geo-test-asn.mmdb', 'GeoLite2-ASN', \%asn_types, [
    [ '77.88.8.0/24',  { autonomous_system_number => 13238, autonomous_system_organization => 'YANDEX LLC' } ],
    [ '81.2.69.0/24',  { autonomous_system_number => 20712, autonomous_system_organization => 'Andrews & Arnold Ltd' } ],
    [ '2a01:4f8::/32', { autonomous_system_number => 24940, autonomous_system_organization => 'Hetzner Online GmbH' } ],
] );
